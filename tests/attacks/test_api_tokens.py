"""What someone tries with OpenAI's protocol (/v1) and personal API tokens, through the real HTTP
API: a revoked token, another person's token, a cookie instead of a token, a disabled account,
and an exhausted budget; each refused before any provider is called."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from sqlmodel import select

from chat_app.db import session_scope
from chat_app.models import SpendRecord, User
from chat_app.services import accounts, budgets
from tests.support.factories import api_token, api_user

ASK = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi [[tokens=3]]"}]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_up(client, email: str | None = None) -> str:
    client.cookies.clear()
    return api_user(client, email)


@pytest.fixture
def operator(api) -> str:
    """The first account is the server's administrator (unlimited by default): made out of the way."""
    return sign_up(api, "operator@example.com")


def test_a_revoked_token_is_refused_at_once(api, fake_env):
    sign_up(api)
    token = api_token(api)
    token_id = api.get("/api/tokens").json()[0]["id"]
    assert api.get("/v1/models", headers=bearer(token)).status_code == 200
    assert api.delete(f"/api/tokens/{token_id}").status_code == 204
    asked_before = len(fake_env.chat_requests)
    for answer in (
        api.get("/v1/models", headers=bearer(token)),
        api.post("/v1/chat/completions", json=ASK, headers=bearer(token)),
        api.post("/v1/chat/completions", json={**ASK, "stream": True}, headers=bearer(token)),
    ):
        assert answer.status_code == 401
        assert (
            answer.json()["error"]["message"]
            == "That API token has been revoked. Make a new one on the settings page."
        )
    assert len(fake_env.chat_requests) == asked_before


def test_another_person_s_token_cannot_be_revoked_or_seen(api):
    sign_up(api, "victim@example.com")
    victims = api_token(api)
    victims_id = api.get("/api/tokens").json()[0]["id"]
    sign_up(api, "attacker@example.com")
    assert api.get("/api/tokens").json() == []
    answer = api.delete(f"/api/tokens/{victims_id}")
    assert answer.status_code == 404 and answer.json()["error"] == "You have no such API token."
    assert api.get("/v1/models", headers=bearer(victims)).status_code == 200  # still works


def test_a_session_cookie_does_not_open_the_api_for_programs(api, fake_env):
    """/v1 reads only the token: a page on another site that gets a signed-in person's browser to
    send a request, or a program holding a stolen cookie, gets nowhere."""
    sign_up(api)
    assert api.get("/api/me").status_code == 200  # the cookie is good
    for answer in (api.get("/v1/models"), api.post("/v1/chat/completions", json=ASK)):
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_api_key"
    in_the_query = api.get(f"/v1/models?api_key={api_token(api)}")
    assert in_the_query.status_code == 401
    assert fake_env.chat_requests == []


def test_a_disabled_account_s_tokens_stop_working(api, operator, fake_env):
    email = sign_up(api)
    token = api_token(api)
    with session_scope() as session:
        person = accounts.find_user(email, session=session)
        assert person is not None
        person.disabled = True
    answer = api.post("/v1/chat/completions", json=ASK, headers=bearer(token))
    assert answer.status_code == 401 and "disabled" in answer.json()["error"]["message"]
    assert fake_env.chat_requests == []


def test_a_stream_running_when_its_account_is_disabled_stops_within_the_reaper_s_round(
    api, operator, fake_env
):
    """Disabling an account also ends what it is streaming now: the program is told why, and what
    was written so far is recorded as spent."""
    email = sign_up(api)
    token = api_token(api)
    long_ask = {
        **ASK,
        "stream": True,
        "messages": [{"role": "user", "content": "hi [[tokens=400]] [[delay=0.02]]"}],
    }
    with api.stream("POST", "/v1/chat/completions", json=long_ask, headers=bearer(token)) as answer:
        assert answer.status_code == 200
        lines = answer.iter_lines()
        next(line for line in lines if '"content": "tok' in line or '"content":"tok' in line)
        with session_scope() as session:
            person = accounts.find_user(email, session=session)
            assert person is not None
            person.disabled = True
        disabled_at = time.monotonic()
        rest = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
        took = time.monotonic() - disabled_at
    assert took < 4, took  # the reaper looks every second; the provider would go on for 8 s
    assert "[DONE]" not in rest
    error = json.loads(rest[-1])["error"]
    assert error["code"] == "disabled" and error["type"] == "permission_error"
    assert error["message"] == accounts.DISABLED
    with session_scope() as session:
        person = accounts.find_user(email, session=session)
        assert person is not None
        spent = session.exec(select(SpendRecord).where(SpendRecord.user_id == person.id)).all()
    assert len(spent) == 1 and spent[0].amount > 0


def test_an_exhausted_allowance_refuses_calls_before_any_provider_is_asked(
    api, operator, fake_env, configure
):
    configure(MONTHLY_SPEND_PER_PERSON="1")
    email = sign_up(api)
    token = api_token(api)
    with session_scope() as session:
        person = accounts.find_user(email, session=session)
        assert isinstance(person, User)
        session.add(SpendRecord(user_id=person.id, amount=1.0, spent_at=budgets.month_start()))
    for body in (ASK, {**ASK, "stream": True}):
        answer = api.post("/v1/chat/completions", json=body, headers=bearer(token))
        assert answer.status_code == 429
        error = answer.json()["error"]
        assert error["code"] == "monthly_spend" and error["type"] == "insufficient_quota"
        assert error["message"].startswith("You have used $1.00 of your $1.00 monthly allowance")
        assert int(answer.headers["retry-after"]) > 0
    assert fake_env.chat_requests == []


def test_calls_count_against_the_person_s_minute(api, operator, fake_env, configure):
    configure(REQUESTS_PER_MINUTE_PER_PERSON="2")
    sign_up(api)
    token = api_token(api)
    assert [
        api.post("/v1/chat/completions", json=ASK, headers=bearer(token)).status_code for _ in range(3)
    ] == [
        200,
        200,
        429,
    ]
    refused = api.post("/v1/chat/completions", json=ASK, headers=bearer(token))
    assert refused.json()["error"]["code"] == "requests_per_minute" and "Retry-After" in refused.headers
    assert len(fake_env.chat_requests) == 2
    # and the app's own sends share the same minute
    chat = api.post("/api/chats", json={"model_id": "openai/gpt-4o"})
    assert chat.status_code == 429


def test_streams_at_once_are_capped_with_the_app_s_replies(served_api, fake_env, configure):
    """A program cannot open more streams at once than the person may have replies in flight."""
    configure(REPLIES_IN_FLIGHT_PER_PERSON="1")
    slow = {
        "model": "openai/gpt-4o",
        "stream": True,
        "messages": [{"role": "user", "content": "[[tokens=40]] [[delay=0.05]]"}],
    }
    with httpx.Client(base_url=served_api, timeout=30) as client:
        sign_up(client, "operator@example.com")
        sign_up(client)
        token = api_token(client)
        started, finished = threading.Event(), threading.Event()

        def stream_once() -> None:  # a program of its own, on its own connection
            with (
                httpx.Client(base_url=served_api, timeout=30) as program,
                program.stream("POST", "/v1/chat/completions", json=slow, headers=bearer(token)) as answer,
            ):
                for line in answer.iter_lines():
                    if line.startswith("data: {") and '"content":"tok' in line:
                        started.set()
            finished.set()

        first = threading.Thread(target=stream_once)
        first.start()
        assert started.wait(10)
        second = client.post("/v1/chat/completions", json=slow, headers=bearer(token))
        assert second.status_code == 429 and second.json()["error"]["code"] == "replies_in_flight"
        chat_id = client.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
        sent = client.post(f"/api/chats/{chat_id}/messages", json={"content": "and one in the app"})
        assert sent.status_code == 429  # the app's replies share the places
        assert finished.wait(15)
        first.join()
        # its place is given back before its end is sent
        again = client.post("/v1/chat/completions", json={**slow, "stream": False}, headers=bearer(token))
        assert again.status_code == 200, again.text
