"""OpenAI's protocol on /v1, on the wire: the shapes of the model list, of a whole and a streamed
completion, and of every refusal, for a program holding a personal API token."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat_app import settings
from tests.support.factories import api_token, api_user

ASK = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hello [[tokens=3]]"}]}


@pytest.fixture
def program(api, fake_env):
    """The API client as a program: a person's token in its Authorization header, no cookie."""
    api_user(api)
    token = api_token(api, "a program")
    api.cookies.clear()
    api.headers["Authorization"] = f"Bearer {token}"
    return api


def _events(lines) -> list[Any]:
    """The `data:` payloads of a server-sent event stream, decoded ("[DONE]" kept as it is)."""
    payloads = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    return [p if p == "[DONE]" else json.loads(p) for p in payloads]


def _refusal(answer, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and set(error) == {"message", "type", "param", "code"}
    assert error["message"].endswith(".")
    return error["message"]


def test_the_models_are_listed_as_openai_lists_them(program, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY")
    listing = program.get("/v1/models")
    assert listing.status_code == 200
    body = listing.json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert "openai/gpt-4o" in ids and "anthropic/claude-sonnet-4-5" in ids
    assert "deepseek/deepseek-chat" not in ids  # not usable now
    assert not any(i.startswith("replicate/") for i in ids)  # not text
    assert body["data"][0].keys() == {"id", "object", "created", "owned_by"}
    assert {m["owned_by"] for m in body["data"] if m["id"] == "openai/gpt-4o"} == {"openai"}


def test_a_whole_completion(program):
    answer = program.post("/v1/chat/completions", json=ASK)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "openai/gpt-4o" and isinstance(body["created"], int)
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "tok1 tok2 tok3"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    usage = body["usage"]
    assert usage["completion_tokens"] == 3 and usage["total_tokens"] == usage["prompt_tokens"] + 3
    assert "chat_id" not in body


def test_a_streamed_completion_with_its_usage(program):
    with program.stream(
        "POST",
        "/v1/chat/completions",
        json={**ASK, "stream": True, "stream_options": {"include_usage": True}},
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        events = _events(answer.iter_lines())
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "tok1 tok2 tok3"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3


def test_a_stream_without_usage_asked_has_none(program):
    with program.stream("POST", "/v1/chat/completions", json={**ASK, "stream": True}) as answer:
        events = _events(answer.iter_lines())
    assert events[-1] == "[DONE]" and all("usage" not in c for c in events[:-1])


def test_a_saved_exchange_appears_among_the_person_s_chats(api, fake_env):
    api_user(api)
    token = api_token(api)
    answer = api.post(
        "/v1/chat/completions", json={**ASK, "save": True}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    chat_id = answer.json()["chat_id"]
    assert [c["id"] for c in api.get("/api/chats").json()] == [chat_id]  # the cookie's own listing
    chat = api.get(f"/api/chats/{chat_id}").json()
    assert chat["title"] == "hello [[tokens=3]]"
    assert [(m["role"], m["content"]) for m in chat["messages"]] == [
        ("user", "hello [[tokens=3]]"),
        ("assistant", "tok1 tok2 tok3"),
    ]
    assert chat["messages"][1]["cost"] > 0


def test_refusals_are_in_openai_s_shape(program):
    assert _refusal(program.post("/v1/chat/completions", json={**ASK, "n": 3}), 400, "unsupported")
    assert _refusal(program.post("/v1/chat/completions", json={"model": "openai/gpt-4o"}), 400, "invalid")
    missing = program.post("/v1/chat/completions", json={**ASK, "model": "openai/gpt-9"})
    assert "`openai/gpt-9` does not exist" in _refusal(missing, 404, "model_not_found")
    not_json = program.post(
        "/v1/chat/completions", content=json.dumps(ASK), headers={"content-type": "text/plain"}
    )
    _refusal(not_json, 415, "content_type")
    assert (
        program.post(
            "/v1/chat/completions", content=b"{", headers={"content-type": "application/json"}
        ).json()["error"]["type"]
        == "invalid_request_error"
    )
    assert program.delete("/v1/chat/completions").status_code == 405


def test_a_body_past_the_cap_is_refused_unread(program, monkeypatch):
    monkeypatch.setenv("MAX_BODY_KB", "1")
    settings.get_settings.cache_clear()
    long = {**ASK, "messages": [{"role": "user", "content": "x" * 2000}]}
    _refusal(program.post("/v1/chat/completions", json=long), 413, "too_large")


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({}, "Send a personal API token as `Authorization: Bearer cat_…`"),
        ({"Authorization": "Bearer cat_nothing-of-ours"}, "That API token is not valid."),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Send a personal API token"),
    ],
)
def test_a_request_without_a_valid_token_is_401(api, headers, said):
    assert said in _refusal(api.get("/v1/models", headers=headers), 401, "invalid_api_key")
    assert said in _refusal(
        api.post("/v1/chat/completions", json=ASK, headers=headers), 401, "invalid_api_key"
    )


@pytest.mark.parametrize(
    ("directive", "status", "kind"),
    [
        ("[[error=429]]", 429, "rate_limited"),
        ("[[error=500]]", 502, "server_error"),
        ("[[error=400]]", 400, "refused"),
    ],
)
def test_a_provider_s_failure_keeps_its_meaning(program, directive, status, kind):
    ask = {**ASK, "messages": [{"role": "user", "content": f"hi {directive}"}]}
    _refusal(program.post("/v1/chat/completions", json=ask), status, kind)
    with program.stream("POST", "/v1/chat/completions", json={**ask, "stream": True}) as streamed:
        streamed.read()  # a stream starts once the provider answers: its refusal is still a status
    _refusal(streamed, status, kind)


def test_a_stream_cut_midway_ends_with_an_error_event(program):
    ask = {**ASK, "stream": True, "messages": [{"role": "user", "content": "hi [[tokens=6]] [[cut]]"}]}
    with program.stream("POST", "/v1/chat/completions", json=ask) as answer:
        assert answer.status_code == 200
        events = _events(answer.iter_lines())
    assert "[DONE]" not in events
    assert events[-1]["error"]["code"] == "failed" and "incomplete" in events[-1]["error"]["message"]


def test_programs_post_freely_and_other_sites_pages_do_not(program):
    """A program sends no `Origin` (nor `Sec-Fetch-Site`): its POST passes the cross-site rule
    (api/origins.py), which still refuses a page of another site, token or not."""
    assert program.post("/v1/chat/completions", json=ASK).status_code == 200
    from_elsewhere = program.post(
        "/v1/chat/completions", json=ASK, headers={"Origin": "https://elsewhere.example"}
    )
    assert from_elsewhere.status_code == 403
