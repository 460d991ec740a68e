"""Our stream guard over the real LiteLLM client, against the local wire-faithful fakes."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest

from chat_app.catalog import CatalogModel, shipped
from chat_app.services import llm

TEXT_MODELS = [
    "openai/gpt-4o",
    "anthropic/claude-haiku-4-5",
    "gemini/gemini-2.5-flash",
    "deepseek/deepseek-chat",
    "ollama/llama3.2",
]
# Ollama's models are discovered at run time, not shipped in the catalog file.
OLLAMA = CatalogModel(
    id="ollama/llama3.2",
    name="llama3.2 (Ollama)",
    provider="ollama",
    provider_name="Ollama",
    litellm_model="ollama_chat/llama3.2:latest",
    source="ollama",
)


def _model(model_id: str) -> CatalogModel:
    if model_id == OLLAMA.id:
        return OLLAMA
    return next(m for m in shipped()[1] if m.id == model_id)


FAST = llm.Deadlines(first_token=3, chunk_gap=1.5, total=20)


async def _collect(model_id: str, text: str, deadlines=FAST):
    parts, finished = [], None
    async for event in llm.stream_reply(
        _model(model_id), [{"role": "user", "content": text}], deadlines=deadlines
    ):
        if isinstance(event, llm.TextDelta):
            parts.append(event.text)
        else:
            finished = event
    return "".join(parts), finished


@pytest.mark.parametrize("model_id", TEXT_MODELS)
async def test_every_provider_streams_text_then_one_finish(fake_env, model_id):
    text, finished = await _collect(model_id, "hello there [[tokens=5]]")
    assert text == "tok1 tok2 tok3 tok4 tok5"
    assert finished.finish_reason == "stop"
    assert finished.output_tokens == 5


@pytest.mark.parametrize("model_id", TEXT_MODELS)
async def test_every_provider_says_when_the_text_is_done_before_its_count_of_tokens(fake_env, model_id):
    events = [
        type(e).__name__
        async for e in llm.stream_reply(
            _model(model_id), [{"role": "user", "content": "hi [[tokens=3]] [[linger=0.3]]"}], deadlines=FAST
        )
    ]
    assert events == ["TextDelta"] * 3 + ["TextDone", "Finished"]


async def test_a_cut_stream_never_says_its_text_is_done(fake_env):
    seen = []
    with pytest.raises(llm.ProviderError):
        async for event in llm.stream_reply(
            _model("openai/gpt-4o"), [{"role": "user", "content": "[[tokens=10]] [[cut]]"}], deadlines=FAST
        ):
            seen.append(event)
    assert seen and not any(isinstance(e, llm.TextDone) for e in seen)


@pytest.mark.parametrize("model_id", TEXT_MODELS)
async def test_a_stream_cut_without_the_finish_signal_is_an_error_not_complete(fake_env, model_id):
    with pytest.raises(llm.ProviderError, match="ended the reply early"):
        await _collect(model_id, "[[tokens=10]] [[cut]]")


@pytest.mark.parametrize(
    "model_id", ["openai/gpt-4o", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash"]
)
async def test_a_line_that_does_not_parse_is_never_complete(fake_env, model_id):
    with pytest.raises(llm.ProviderError):
        await _collect(model_id, "[[tokens=10]] [[badline]]")


@pytest.mark.parametrize(
    ("model_id", "directive", "sentence"),
    [
        ("openai/gpt-4o", "[[error=401]]", "rejected the API key"),
        ("anthropic/claude-haiku-4-5", "[[error=429]]", "rate limiting"),
        ("gemini/gemini-2.5-flash", "[[error=429]]", "rate limiting"),
        ("openai/gpt-4o", "[[error=503]]", "503"),
        ("ollama/llama3.2", "[[error=500]]", "500"),
    ],
)
async def test_provider_errors_become_one_clear_sentence(fake_env, model_id, directive, sentence):
    with pytest.raises(llm.ProviderError, match=sentence):
        await _collect(model_id, directive)


async def test_a_missing_key_is_reported_without_the_key(fake_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "bad-key")
    with pytest.raises(llm.ProviderError) as err:
        await _collect("openai/gpt-4o", "hi")
    assert "bad-key" not in str(err.value) and "401" in str(err.value)


async def test_first_token_deadline(fake_env):
    started = time.monotonic()
    with pytest.raises(llm.ProviderError, match="did not start answering within 1 s"):
        await _collect(
            "openai/gpt-4o",
            "[[first_delay=5]]",
            deadlines=llm.Deadlines(first_token=1, chunk_gap=5, total=20),
        )
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("model_id", ["openai/gpt-4o", "gemini/gemini-2.5-flash"])
async def test_gap_deadline_cuts_a_stalled_stream_even_where_litellm_has_no_timeout(fake_env, model_id):
    started = time.monotonic()
    with pytest.raises(llm.ProviderError, match="stopped sending for 1 s"):
        await _collect(
            model_id,
            "[[tokens=5]] [[stall=6]]",
            deadlines=llm.Deadlines(first_token=3, chunk_gap=1, total=20),
        )
    assert time.monotonic() - started < 4


async def test_total_deadline(fake_env):
    with pytest.raises(llm.ProviderError, match="longer than 1 s"):
        await _collect(
            "openai/gpt-4o",
            "[[tokens=50]] [[delay=0.1]]",
            deadlines=llm.Deadlines(first_token=3, chunk_gap=3, total=1),
        )


def test_cost_comes_from_the_catalogs_prices():
    model = CatalogModel(
        id="x/y",
        name="Y",
        provider="openai",
        provider_name="OpenAI",
        input_per_mtok=2.5,
        output_per_mtok=10.0,
    )
    assert llm.reply_cost(model, 1_000_000, 100_000) == 3.5
    assert llm.reply_cost(model, None, None) is None
    assert llm.reply_cost(_model("replicate/stability-ai/sdxl"), 10, 10) is None


async def test_a_provider_that_cannot_be_reached_is_said_so_not_called_a_server_error(monkeypatch):
    """LiteLLM gives connection failures a status of 500; people are told what really happened."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")  # nothing listens there
    with pytest.raises(llm.ProviderError, match="could not be reached"):
        await _collect("openai/gpt-4o", "hello")


@asynccontextmanager
async def _relay_hanging_up_first(count: int, target_url: str) -> AsyncIterator[tuple[str, list[int]]]:
    """A relay to the fake provider whose first `count` connections take the request and hang up
    without a word, as a server closing an idle keep-alive connection does. Yields its address and
    a list holding how many connections it took."""
    target = urlsplit(target_url)
    connections = [0]

    async def relay(reader, writer):
        connections[0] += 1
        if connections[0] <= count:
            await reader.read(1024)
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(target.hostname, target.port)

        async def pipe(source, sink):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(
            pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True
        )

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1", connections


async def test_a_request_the_provider_drops_unanswered_is_sent_again(fake_env, monkeypatch):
    """Providers close idle keep-alive connections, and a burst of sends after a quiet spell can
    draw several of them from the pool: each request caught by that is sent again at once."""
    async with _relay_hanging_up_first(3, fake_env.base_url) as (url, connections):
        monkeypatch.setenv("OPENAI_API_BASE", url)
        text, finished = await _collect("openai/gpt-4o", "hello [[tokens=3]]")
    assert text == "tok1 tok2 tok3" and finished.finish_reason == "stop"
    assert connections == [4] and len(fake_env.chat_requests) == 1


async def test_a_provider_that_keeps_hanging_up_is_tried_four_times_then_said_so(fake_env, monkeypatch):
    async with _relay_hanging_up_first(100, fake_env.base_url) as (url, connections):
        monkeypatch.setenv("OPENAI_API_BASE", url)
        with pytest.raises(llm.ProviderError, match="broke"):
            await _collect("openai/gpt-4o", "hello [[tokens=3]]")
    assert connections == [4] and fake_env.chat_requests == []


async def test_a_provider_silent_past_the_whole_replys_deadline_is_said_to_have_taken_too_long(
    fake_env, monkeypatch
):
    """No answer at all (not even headers) within a total deadline shorter than the first token's:
    the sentence names the deadline that passed."""

    async def silent(reader, writer):
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    monkeypatch.setenv("OPENAI_API_BASE", f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1")
    async with server:
        with pytest.raises(llm.ProviderError, match="longer than 1 s"):
            await _collect(
                "openai/gpt-4o", "hello", deadlines=llm.Deadlines(first_token=3, chunk_gap=3, total=1)
            )


def _chained(*errors: BaseException) -> BaseException:
    """errors[0] raised from errors[1] raised from ..., as LiteLLM wraps its transport's errors."""
    for outer, inner in zip(errors, errors[1:], strict=False):
        outer.__cause__ = inner
    return errors[0]


def test_connection_failures_are_told_apart_whatever_the_transport_calls_them():
    import aiohttp
    import httpx

    refused = _chained(
        httpx.ConnectError("All connection attempts failed"), ConnectionRefusedError(111, "refused")
    )
    closed_while_writing = _chained(
        httpx.ConnectError("Can not write request body"),
        aiohttp.ClientConnectionResetError("Cannot write to closing transport"),
    )
    dropped = _chained(httpx.ReadError("Server disconnected"), aiohttp.ServerDisconnectedError())
    unreachable = llm.provider_error(refused, "OpenAI")
    assert "could not be reached" in str(unreachable) and unreachable.kind == "unreachable"
    for broken in (closed_while_writing, dropped):
        error = llm.provider_error(broken, "OpenAI")
        assert "connection to OpenAI broke" in str(error) and error.kind == "broken"
