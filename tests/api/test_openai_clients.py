"""Real clients against the API served on a real local port: OpenAI's own Python client (whole,
streamed, saved, refused, and leaving midway) and LiteLLM as a client, answered through the app's
LiteLLM path by the local fake provider."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import openai
import pytest
from sqlmodel import select

from chat_app.db import session_scope
from chat_app.models import SpendRecord
from chat_app.services import budgets
from chat_app.services.litellm_loader import load_litellm
from tests.support.factories import api_token, api_user

HELLO = [{"role": "user", "content": "hello [[tokens=3]]"}]


@dataclass
class Person:
    browser: httpx.Client  # signed in with the session cookie, as the app's pages are
    token: str
    client: openai.OpenAI  # the program, holding the person's token
    base_url: str


@pytest.fixture
def person(served_api, fake_env) -> Iterator[Person]:
    with httpx.Client(base_url=served_api) as browser:
        api_user(browser, "operator@example.com")  # the first account: the server's administrator
        browser.cookies.clear()
        api_user(browser)
        token = api_token(browser, "OpenAI's client")
        client = openai.OpenAI(base_url=f"{served_api}/v1", api_key=token, max_retries=0)
        yield Person(browser, token, client, f"{served_api}/v1")
        client.close()


def test_the_official_client_lists_the_models(person):
    ids = [model.id for model in person.client.models.list()]
    assert "openai/gpt-4o" in ids and not any(i.startswith("replicate/") for i in ids)


def test_the_official_client_gets_a_whole_reply(person):
    completion = person.client.chat.completions.create(model="openai/gpt-4o", messages=HELLO)  # pyright: ignore[reportArgumentType]
    assert completion.choices[0].message.content == "tok1 tok2 tok3"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 3


def test_the_official_client_streams_a_reply_as_it_is_written(person):
    slow = [{"role": "user", "content": "go [[tokens=12]] [[delay=0.1]]"}]
    began = time.monotonic()
    stream = person.client.chat.completions.create(
        model="openai/gpt-4o",
        messages=slow,  # pyright: ignore[reportArgumentType]
        stream=True,
        stream_options={"include_usage": True},
    )
    parts, arrived = [], []
    usage = None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
            arrived.append(time.monotonic() - began)
        usage = chunk.usage or usage
    assert "".join(parts) == " ".join(f"tok{i}" for i in range(1, 13))
    assert arrived[-1] - arrived[0] > 0.7  # piece by piece, not all at the end
    assert usage is not None and usage.completion_tokens == 12


def test_a_streamed_exchange_saved_by_the_client_is_a_chat_of_its_person(person):
    stream = person.client.chat.completions.create(
        model="openai/gpt-4o",
        messages=HELLO,  # pyright: ignore[reportArgumentType]
        stream=True,
        extra_body={"save": True},
    )
    chunks = list(stream)
    chat_id = next(c.model_extra["chat_id"] for c in chunks if c.model_extra and "chat_id" in c.model_extra)
    chats = person.browser.get("/api/chats").json()
    assert [c["id"] for c in chats] == [chat_id]
    messages = person.browser.get(f"/api/chats/{chat_id}").json()["messages"]
    assert [(m["role"], m["content"], m["status"]) for m in messages] == [
        ("user", "hello [[tokens=3]]", "complete"),
        ("assistant", "tok1 tok2 tok3", "complete"),
    ]


def test_the_official_client_reads_refusals_as_its_own_errors(person, configure):
    with pytest.raises(openai.NotFoundError) as unknown:
        person.client.chat.completions.create(model="nobody/nothing", messages=HELLO)  # pyright: ignore[reportArgumentType]
    assert "does not exist" in unknown.value.message and unknown.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError, match="One choice per request"):
        person.client.chat.completions.create(model="openai/gpt-4o", messages=HELLO, n=2)  # pyright: ignore[reportArgumentType]
    stranger = openai.OpenAI(base_url=person.base_url, api_key="cat_not-a-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="not valid"):
        stranger.models.list()
    configure(MONTHLY_SPEND_PER_PERSON="0.000001")
    person.client.chat.completions.create(model="openai/gpt-4o", messages=HELLO)  # pyright: ignore[reportArgumentType]
    with pytest.raises(openai.RateLimitError, match="monthly allowance") as refused:
        person.client.chat.completions.create(model="openai/gpt-4o", messages=HELLO, stream=True)  # pyright: ignore[reportArgumentType]
    assert refused.value.code == budgets.MONTHLY_SPEND


def test_a_client_that_leaves_midway_stops_the_reply_upstream_and_pays_for_what_came(person, fake_env):
    long = [{"role": "user", "content": "go [[tokens=300]] [[delay=0.05]]"}]
    stream = person.client.chat.completions.create(model="openai/gpt-4o", messages=long, stream=True)  # pyright: ignore[reportArgumentType]
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    stream.close()
    deadline = time.monotonic() + 10
    while not fake_env.chat_requests[-1].get("stream", {}).get("ended_at") and time.monotonic() < deadline:
        time.sleep(0.05)
    upstream = fake_env.chat_requests[-1]["stream"]
    assert upstream["ended_at"] and not upstream["finished"] and upstream["sent"] < 300
    spent: list[SpendRecord] = []
    while not spent and time.monotonic() < deadline:
        with session_scope() as session:
            spent = list(session.exec(select(SpendRecord)))
        time.sleep(0.05)
    assert len(spent) == 1 and spent[0].amount > 0


def test_litellm_as_a_client_whole_and_streamed(person):
    litellm = load_litellm()
    asked = {
        "model": "openai/openai/gpt-4o",  # LiteLLM's provider prefix, then our model's id
        "api_base": person.base_url,
        "api_key": person.token,
        "messages": HELLO,
        "max_retries": 0,
    }
    whole = litellm.completion(**asked)
    assert whole.choices[0].message.content == "tok1 tok2 tok3"  # pyright: ignore[reportAttributeAccessIssue]
    streamed = litellm.completion(**asked, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed if chunk.choices)  # pyright: ignore[reportAttributeAccessIssue]
    assert text == "tok1 tok2 tok3"
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(**{**asked, "api_key": "cat_revoked-or-never-made"})
