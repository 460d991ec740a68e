"""Drive the REAL LiteLLM client against the fake providers over HTTP.

Besides checking the fakes, these tests pin down what LiteLLM 1.106 does with broken streams
(``[[cut]]``, ``[[badline]]``) and errors, per provider, because the app must detect them.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat_app.services.litellm_loader import load_litellm
from tests.fakes.providers import FakeProviders, Script, split_words
from tests.support.app_server import free_port

litellm = load_litellm()  # offline: with the price map it ships
MidStreamFallbackError = litellm.exceptions.MidStreamFallbackError

PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


@dataclass(frozen=True)
class Target:
    """How LiteLLM addresses one provider of the fake: model name and api_base suffix."""

    model: str
    suffix: str

    def base(self, fake_providers: FakeProviders) -> str:
        return fake_providers.base_url + self.suffix


TARGETS = {
    "openai": Target("openai/gpt-4o-mini", "/v1"),
    "deepseek": Target("deepseek/deepseek-chat", ""),
    "anthropic": Target("anthropic/claude-haiku-4-5", ""),
    "gemini": Target("gemini/gemini-2.5-flash", "/v1beta"),
    "ollama": Target("ollama_chat/llama3.2:latest", ""),
}
PROVIDERS = list(TARGETS)

# LiteLLM 1.106 never raises for a stream that ends cleanly without the provider's finish signal:
# it synthesises finish_reason="stop". Only the (non-public) wrapper flag ``received_finish_reason``
# tells it apart: "stop" after a complete stream, None after a cut one - except for Gemini, whose
# parser maps every chunk lacking finishReason to "stop", leaving the flag None either way.
CUT_DETECTABLE = {"openai": True, "deepseek": True, "anthropic": True, "gemini": False, "ollama": True}


@dataclass
class Outcome:
    """Everything a consumer of ``acompletion(stream=True)`` observes, plus the wrapper's flags."""

    text: str = ""
    finish_reasons: list[str] = field(default_factory=list)
    usage: Any = None
    wrapper: Any = None
    error: BaseException | None = None


async def run_stream(
    fake_providers: FakeProviders, provider: str, content: Any, key: str = "sk-test", **kwargs: Any
) -> Outcome:
    """Stream one user message through LiteLLM; a raised error is captured, not propagated."""
    target, outcome = TARGETS[provider], Outcome()
    try:
        outcome.wrapper = await litellm.acompletion(
            model=target.model,
            messages=[{"role": "user", "content": content}],
            stream=True,
            api_base=target.base(fake_providers),
            api_key=key,
            **kwargs,
        )
        async for chunk in outcome.wrapper:
            if chunk.choices:
                outcome.text += chunk.choices[0].delta.content or ""
                if chunk.choices[0].finish_reason:
                    outcome.finish_reasons.append(chunk.choices[0].finish_reason)
            if getattr(chunk, "usage", None):
                outcome.usage = chunk.usage
    except Exception as exc:
        outcome.error = exc
    return outcome


SIX_WORDS = "one two three four five six"
FULL_REPLY = f"You said: {SIX_WORDS}"


# --------------------------------------------------------------------------- happy path


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_stream_yields_exact_text_finish_and_usage(
    fake_providers: FakeProviders, provider: str
) -> None:
    out = await run_stream(fake_providers, provider, SIX_WORDS, stream_options={"include_usage": True})
    assert out.error is None
    assert out.text == FULL_REPLY
    assert out.finish_reasons == ["stop"]
    assert (out.usage.prompt_tokens, out.usage.completion_tokens) == (6, len(split_words(FULL_REPLY)))
    assert out.wrapper.received_finish_reason == ("stop" if CUT_DETECTABLE[provider] else None)
    assert [r["provider"] for r in fake_providers.chat_requests] == [
        provider if provider != "deepseek" else "openai"
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_non_stream_completion(fake_providers: FakeProviders, provider: str) -> None:
    target = TARGETS[provider]
    response = await litellm.acompletion(
        model=target.model,
        messages=[{"role": "user", "content": "hi there"}],
        api_base=target.base(fake_providers),
        api_key="sk-test",
    )
    assert response.choices[0].message.content == "You said: hi there"
    assert response.choices[0].finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (2, 4)


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_max_tokens_gives_length(fake_providers: FakeProviders, provider: str) -> None:
    out = await run_stream(fake_providers, provider, "[[tokens=10]] [[delay=0]]", max_tokens=3)
    assert (out.text, out.finish_reasons) == ("tok1 tok2 tok3", ["length"])


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_fake_env_points_litellm_here(
    fake_providers: FakeProviders, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in fake_providers.env().items():
        monkeypatch.setenv(name, value)
    response = await litellm.acompletion(
        model=TARGETS[provider].model, stream=True, messages=[{"role": "user", "content": "via env"}]
    )
    assert "".join([c.choices[0].delta.content or "" async for c in response]) == "You said: via env"
    header, value = ENV_KEY_HEADERS[provider]
    assert fake_providers.chat_requests[-1]["headers"].get(header) == value


ENV_KEY_HEADERS = {
    "openai": ("authorization", "Bearer sk-fake-openai"),
    "deepseek": ("authorization", "Bearer sk-fake-deepseek"),
    "anthropic": ("x-api-key", "sk-ant-fake"),
    "gemini": ("x-goog-api-key", "fake-gemini-key"),
    "ollama": ("authorization", None),  # Ollama needs no key; LiteLLM sends none unless OLLAMA_API_KEY is set
}


# --------------------------------------------------------------------------- directives


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[[tokens=4]]", "tok1 tok2 tok3 tok4"),
        ("[[echo_model]]", "gpt-4o-mini"),
        ("  spaced   out  [[delay=0]] ", "You said: spaced   out"),
    ],
)
async def test_directive_replies(fake_providers: FakeProviders, content: str, expected: str) -> None:
    out = await run_stream(fake_providers, "openai", content)
    assert out.text == expected


@pytest.mark.asyncio
async def test_markdown_reply(fake_providers: FakeProviders) -> None:
    out = await run_stream(fake_providers, "anthropic", "[[markdown]] [[delay=0]]")
    assert out.text.startswith("# ") and "\n- " in out.text and "```python\n" in out.text


def test_script_parses_combined_directives() -> None:
    script = Script.parse(
        "hello [[tokens=3]] [[delay=0.2]] [[first_delay=1]] [[stall=2]] [[cut]] [[badline]]"
    )
    assert (script.text, script.tokens, script.delay, script.first_delay, script.stall) == (
        "hello",
        3,
        0.2,
        1,
        2,
    )
    assert script.cut and script.badline and not script.markdown


# --------------------------------------------------------------------------- errors


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("content", "key"), [("hi", "bad-key"), ("hi [[error=401]]", "sk-test")])
async def test_auth_failure_is_authentication_error(
    fake_providers: FakeProviders, provider: str, content: str, key: str
) -> None:
    out = await run_stream(fake_providers, provider, content, key=key)
    assert isinstance(out.error, litellm.AuthenticationError)


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_rate_limit(fake_providers: FakeProviders, provider: str) -> None:
    """Gemini is the odd one: its 429 arrives on first iteration wrapped in MidStreamFallbackError."""
    out = await run_stream(fake_providers, provider, "hi [[error=429]]", max_retries=0)
    if provider == "gemini":
        assert isinstance(out.error, MidStreamFallbackError)
        assert out.error.is_pre_first_chunk and out.error.status_code == 429
        assert isinstance(out.error.original_exception, litellm.RateLimitError)
    else:
        assert isinstance(out.error, litellm.RateLimitError)
    assert len(fake_providers.chat_requests) == 1


@pytest.mark.asyncio
async def test_openai_sdk_retries_rate_limits_by_default(fake_providers: FakeProviders) -> None:
    """Only the openai/ route (OpenAI SDK, max_retries=2) retries: 3 requests, ~1.3 s, then the error."""
    out = await run_stream(fake_providers, "openai", "hi [[error=429]]")
    assert isinstance(out.error, litellm.RateLimitError)
    assert len(fake_providers.chat_requests) == 3


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_server_error(fake_providers: FakeProviders, provider: str) -> None:
    out = await run_stream(fake_providers, provider, "hi [[error=500]]", max_retries=0)
    error = out.error.original_exception if isinstance(out.error, MidStreamFallbackError) else out.error
    assert isinstance(error, litellm.InternalServerError)


# --------------------------------------------------------------------------- broken streams


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_cut_stream_is_reported_as_stop(fake_providers: FakeProviders, provider: str) -> None:
    out = await run_stream(
        fake_providers, provider, f"{SIX_WORDS} [[cut]]", stream_options={"include_usage": True}
    )
    assert out.error is None
    assert out.text == "You said: one two"  # 4 of 8 chunks
    assert out.finish_reasons == ["stop"]  # synthesised by LiteLLM, not sent by the fake
    assert out.wrapper.received_finish_reason is None  # "stop" after a complete stream, except Gemini
    assert out.usage is not None  # estimated by LiteLLM when the provider sent none


# One unparseable line mid-stream, per provider:
#   raise    -> MidStreamFallbackError (a ServiceUnavailableError) after the chunks before it
#   skip     -> the line is ignored, the full reply and its real finish arrive
#   truncate -> the stream silently ends at the bad line with a synthesised "stop"
BADLINE = {
    "openai": "raise",
    "deepseek": "skip",
    "anthropic": "truncate",
    "gemini": "truncate",
    "ollama": "skip",
}


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_badline_behaviour(fake_providers: FakeProviders, provider: str) -> None:
    out = await run_stream(fake_providers, provider, f"{SIX_WORDS} [[badline]]")
    behaviour = BADLINE[provider]
    if behaviour == "raise":
        assert isinstance(out.error, MidStreamFallbackError)
        assert isinstance(out.error.original_exception, litellm.APIConnectionError)
        assert out.error.generated_content == out.text == "You said:"
    elif behaviour == "skip":
        assert (out.error, out.text, out.finish_reasons) == (None, FULL_REPLY, ["stop"])
        assert out.wrapper.received_finish_reason == "stop"
    else:
        assert (out.error, out.text, out.finish_reasons) == (None, "You said:", ["stop"])
        assert out.wrapper.received_finish_reason is None  # same signal as a cut stream


# --------------------------------------------------------------------------- request contents


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_image_part_reaches_provider(fake_providers: FakeProviders, provider: str) -> None:
    content = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}},
    ]
    out = await run_stream(fake_providers, provider, content)
    assert out.text == "You said: what is this?"
    user = fake_providers.chat_requests[-1]["messages"][-1]
    if provider == "deepseek":  # LiteLLM flattens DeepSeek content to text and drops images
        assert user["images"] == []
    else:
        assert [(i["mime"], i["data"]) for i in user["images"]] == [("image/png", PNG_1PX)]


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_system_and_history_are_parsed(fake_providers: FakeProviders, provider: str) -> None:
    target = TARGETS[provider]
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "second [[delay=0]]"},
    ]
    response = await litellm.acompletion(
        model=target.model,
        messages=messages,
        stream=True,
        api_base=target.base(fake_providers),
        api_key="sk-test",
    )
    assert "".join([c.choices[0].delta.content or "" async for c in response]) == "You said: second"
    recorded = fake_providers.chat_requests[-1]["messages"]
    assert [(m["role"], m["text"]) for m in recorded] == [
        ("system", "Be brief."),
        ("user", "first"),
        ("assistant", "ok"),
        ("user", "second [[delay=0]]"),
    ]


# --------------------------------------------------------------------------- raw wire format


def _post(
    fake_providers: FakeProviders,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.post(
        fake_providers.base_url + path, json=body, headers=headers or {}, params=params, timeout=10
    )


OPENAI_BODY = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True}}
AUTH = {"authorization": "Bearer sk-test"}
ANTHROPIC_HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}


def _sse_data(response: httpx.Response) -> list[str]:
    return [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]


def test_openai_wire_format(fake_providers: FakeProviders) -> None:
    response = _post(
        fake_providers,
        "/v1/chat/completions",
        OPENAI_BODY | {"messages": [{"role": "user", "content": "a b"}]},
        AUTH,
    )
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    data = _sse_data(response)
    chunks = [json.loads(d) for d in data[:-1]]
    assert data[-1] == "[DONE]"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [c["choices"][0]["finish_reason"] for c in chunks[-2:-1]] == ["stop"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 2 + 4


def test_anthropic_wire_format(fake_providers: FakeProviders) -> None:
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "a b"}],
    }
    response = _post(fake_providers, "/v1/messages", body, ANTHROPIC_HEADERS)
    events = [line[7:] for line in response.text.splitlines() if line.startswith("event: ")]
    assert events == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 4,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert json.loads(_sse_data(response)[-2])["delta"]["stop_reason"] == "end_turn"


def test_anthropic_requires_version_and_key(fake_providers: FakeProviders) -> None:
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    no_version = _post(fake_providers, "/v1/messages", body, {"x-api-key": "k"})
    no_key = _post(fake_providers, "/v1/messages", body, {"anthropic-version": "2023-06-01"})
    assert (no_version.status_code, no_version.json()["error"]["type"]) == (400, "invalid_request_error")
    assert (no_key.status_code, no_key.json()["type"]) == (401, "error")


def test_gemini_wire_format_and_query_key(fake_providers: FakeProviders) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "a b"}]}]}
    response = _post(
        fake_providers,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        body,
        params={"alt": "sse", "key": "k"},
    )
    assert response.status_code == 200 and "\r\n\r\n" in response.text
    chunks = [json.loads(d) for d in _sse_data(response)]
    assert [c["candidates"][0].get("finishReason") for c in chunks] == [None] * 4 + ["STOP"]
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 4
    missing = _post(fake_providers, "/v1beta/models/gemini-2.5-flash:generateContent", body)
    assert (missing.status_code, missing.json()["error"]["status"]) == (403, "PERMISSION_DENIED")


def test_ollama_wire_format_and_endpoints(fake_providers: FakeProviders) -> None:
    response = _post(
        fake_providers, "/api/chat", {"model": "qwen2.5:0.5b", "messages": [{"role": "user", "content": "a"}]}
    )
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["done"] for line in lines] == [False, False, False, True]
    assert lines[-1]["done_reason"] == "stop" and lines[-1]["eval_count"] == 3
    assert httpx.get(fake_providers.base_url + "/").text == "Ollama is running"
    names = [m["name"] for m in httpx.get(fake_providers.base_url + "/api/tags").json()["models"]]
    assert {"llama3.2:latest", "qwen2.5:0.5b"} <= set(names)


@pytest.mark.parametrize(
    ("path", "body", "headers", "finish_marker"),
    [
        ("/v1/chat/completions", OPENAI_BODY, AUTH, "[DONE]"),
        ("/v1/messages", {"model": "m", "max_tokens": 99, "stream": True}, ANTHROPIC_HEADERS, "message_stop"),
        ("/v1beta/models/g:streamGenerateContent", {}, {"x-goog-api-key": "k"}, "finishReason"),
        ("/api/chat", {"model": "m"}, {}, '"done":true'),
    ],
)
def test_cut_and_badline_on_the_wire(
    fake_providers: FakeProviders,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    finish_marker: str,
) -> None:
    def call(text: str) -> str:
        message = (
            {"contents": [{"role": "user", "parts": [{"text": text}]}]}
            if "models/" in path
            else {"messages": [{"role": "user", "content": text}]}
        )
        return _post(fake_providers, path, body | message, headers, {"alt": "sse"}).text

    assert finish_marker in call("a b c d")
    cut = call("a b c d [[cut]]")  # 3 of the 6 chunks "You", " said:", " a", " b", " c", " d"
    assert finish_marker not in cut and '" a"' in cut and '" b"' not in cut
    assert "{not json" in call("a b c d [[badline]]")


def test_first_delay_sends_headers_at_once(fake_providers: FakeProviders) -> None:
    body = OPENAI_BODY | {"messages": [{"role": "user", "content": "[[first_delay=0.4]] [[stall=0.3]] a b"}]}
    with httpx.stream(
        "POST", fake_providers.base_url + "/v1/chat/completions", json=body, headers=AUTH
    ) as response:
        start = time.monotonic()
        assert response.status_code == 200  # headers already here
        stamps = [(time.monotonic() - start, line) for line in response.iter_lines() if '"content":"' in line]
    first_content = next(t for t, line in stamps if '"content":""' not in line)
    assert first_content >= 0.35
    assert stamps[-1][0] - first_content >= 0.28  # the stall after the first content chunk


def test_chunks_keep_the_scripts_pace_when_the_fake_wakes_late(fake_providers: FakeProviders) -> None:
    """Each chunk is due `delay` after the one before was due, as a model writes at its own pace:
    the fake's late wake-ups (it shares the machine, and here the interpreter, with its client)
    must not add up, or every benchmark's "provider's own time" would be longer than it says."""
    tokens, delay = 30, 0.02
    body = OPENAI_BODY | {
        "messages": [{"role": "user", "content": f"[[tokens={tokens}]] [[delay={delay}]] [[stamp]]"}]
    }
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.02)  # the fake's thread waits up to 20 ms for the interpreter after each sleep
    try:
        with httpx.stream(
            "POST", fake_providers.base_url + "/v1/chat/completions", json=body, headers=AUTH
        ) as response:
            stamps = []
            for line in response.iter_lines():
                stamps += [float(t) for t in re.findall(r"tok\d+@(\d+\.\d+)", line)]
                busy_until = time.monotonic() + 0.02
                while time.monotonic() < busy_until:  # the client keeps the interpreter busy
                    pass
    finally:
        sys.setswitchinterval(switch)
    assert len(stamps) == tokens
    span = stamps[-1] - stamps[0]
    assert (tokens - 1) * delay - 0.005 <= span <= (tokens - 1) * delay + 0.06, span


# --------------------------------------------------------------------------- runner


def test_records_requests_with_lowercase_headers_and_query(fake_providers: FakeProviders) -> None:
    _post(
        fake_providers,
        "/v1beta/models/g:generateContent",
        {"contents": []},
        {"X-Goog-Api-Key": "k"},
        {"foo": "bar"},
    )
    (record,) = fake_providers.requests
    assert record["path"] == "/v1beta/models/g:generateContent" and record["query"] == {"foo": "bar"}
    assert record["headers"]["x-goog-api-key"] == "k" and record["json"] == {"contents": []}
    fake_providers.clear()
    assert fake_providers.requests == []


@pytest.mark.asyncio
async def test_ollama_show_is_called_by_litellm(fake_providers: FakeProviders) -> None:
    """LiteLLM POSTs /api/show after Ollama calls (model info); the fake answers and records it."""
    target = Target("ollama_chat/fresh-model:latest", "")  # model info is lru-cached per model
    response = await litellm.acompletion(
        model=target.model,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        api_base=target.base(fake_providers),
    )
    assert "".join([c.choices[0].delta.content or "" async for c in response]) == "You said: hi"
    await asyncio.sleep(0.2)
    assert ("POST", "/api/show") in [
        (r["method"], r["path"]) for r in fake_providers.requests if r["kind"] == "meta"
    ]


def test_standalone_module_serves() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.providers", "--port", str(port)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/").text == "Ollama is running"
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
