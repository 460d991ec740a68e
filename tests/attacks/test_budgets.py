"""Row 9: no per-person limit on replies, generations, chats or spend, with open registration and
the server's keys; and nobody to stop an account or close the door.

Each test is what someone tries through the HTTP API, refused before any provider is called."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from chat_app.db import session_scope
from chat_app.models import Chat, Message, SharedAccess, User
from chat_app.services import accounts, branches
from tests.support.factories import api_user
from tests.support.waiting import chat_in_flight, wait_for_reply, wait_until

SLOW = "[[tokens=400]] [[delay=0.05]]"  # a reply that stays in flight for twenty seconds


def sign_up(api, email: str | None = None) -> str:
    """A new person on the client (the cookie is theirs now); their email."""
    api.cookies.clear()
    return api_user(api, email)


def token_of(api) -> str:
    return api.cookies.get("chat_session")


def act_as(api, token: str) -> None:
    api.cookies.clear()
    api.cookies.set("chat_session", token)


def user_id(email: str) -> uuid.UUID:
    with session_scope() as session:
        user = accounts.find_user(email, session=session)
        assert user is not None
        return user.id


def seed_spend(chat_id: str, author: uuid.UUID, cost: float) -> None:
    """A reply that cost `cost`, asked for by `author`, paid by the server's (or the owner's) key."""
    with session_scope() as session:
        chat = session.get(Chat, uuid.UUID(chat_id))
        assert chat is not None
        seq = session.execute(
            sa.select(sa.func.coalesce(sa.func.max(Message.seq), 0)).where(Message.chat_id == chat.id)
        ).scalar_one()
        leaf = branches.leaf_of(chat, session=session)
        asked = Message(chat_id=chat.id, seq=seq + 1, role="user", content="q", author_id=author)
        answer = Message(
            chat_id=chat.id, seq=seq + 2, role="assistant", content="a", author_id=author, cost=cost
        )
        branches.attach(asked, session.get(Message, leaf) if leaf else None)
        branches.attach(answer, asked)
        chat.current_leaf_id = answer.id
        session.add_all([chat, asked, answer])


def new_chat(api) -> str:
    answer = api.post("/api/chats", json={"model_id": "openai/gpt-4o"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def message_count(api, chat_id: str) -> int:
    return len(api.get(f"/api/chats/{chat_id}").json()["messages"])


@pytest.fixture
def operator(api) -> str:
    """The first account: the server's administrator (its session token)."""
    sign_up(api, "operator@example.com")
    return token_of(api)


def test_spending_past_the_monthly_allowance_on_the_servers_key(api, fake_env, operator):
    email = sign_up(api)
    chat_id = new_chat(api)
    seed_spend(chat_id, user_id(email), 10.01)
    refused = api.post(f"/api/chats/{chat_id}/messages", json={"content": "and one more"})
    assert refused.status_code == 429
    assert refused.json()["code"] == "monthly_spend"
    assert refused.json()["error"].startswith(
        "You have used $10.01 of your $10.00 monthly allowance; it resets on 1 "
    )
    assert 0 < int(refused.headers["Retry-After"]) <= 31 * 86400
    assert message_count(api, chat_id) == 2  # nothing half-written
    assert fake_env.chat_requests == []  # no provider was called


def test_stopping_every_reply_early_still_spends_the_allowance(api, fake_env, operator):
    """Usage is reported only at a stream's end: a reply stopped midway is counted by its tokens,
    so Stop is no way to ask a model for free."""
    sign_up(api)
    chat_id = new_chat(api)
    with session_scope() as session:
        person = session.get(User, user_id(api.get("/api/me").json()["email"]))
        assert person is not None
        person.monthly_spend_limit = 0.0001  # about 30 tokens of gpt-4o
    posted = api.post(f"/api/chats/{chat_id}/messages", json={"content": SLOW})
    assert posted.status_code == 202
    wait_until(lambda: last_message(api, chat_id)["content"], what="the reply's first text")
    assert api.post(f"/api/chats/{chat_id}/stop").json() == {"stopped": True}
    wait_for_reply(chat_in_flight(api, chat_id))
    stopped = last_message(api, chat_id)
    assert stopped["status"] == "stopped" and stopped["cost"] > 0
    refused = api.post(f"/api/chats/{chat_id}/messages", json={"content": "again, stopped early"})
    assert refused.status_code == 429 and refused.json()["code"] == "monthly_spend"


def last_message(api, chat_id: str) -> dict:
    return api.get(f"/api/chats/{chat_id}").json()["messages"][-1]


def test_more_replies_in_flight_at_once_than_allowed(api, fake_env, operator):
    sign_up(api)
    chat_ids = [new_chat(api) for _ in range(4)]
    try:
        for n, chat_id in enumerate(chat_ids[:3]):
            assert (
                api.post(f"/api/chats/{chat_id}/messages", json={"content": f"{SLOW} #{n}"}).status_code
                == 202
            )
        refused = api.post(f"/api/chats/{chat_ids[3]}/messages", json={"content": f"{SLOW} #3"})
        assert refused.status_code == 429
        assert refused.json() == {
            "error": "You have 3 replies in flight, the most you may have at once; wait for one to finish.",
            "code": "replies_in_flight",
        }
        assert message_count(api, chat_ids[3]) == 0
    finally:
        for chat_id in chat_ids[:3]:
            api.post(f"/api/chats/{chat_id}/stop")
            wait_for_reply(chat_in_flight(api, chat_id))
    assert "#3" not in str(fake_env.chat_requests)


def test_more_requests_a_minute_than_allowed(api, fake_env, operator):
    sign_up(api)
    chat_ids = [new_chat(api) for _ in range(30)]  # a new chat is a request
    refused = api.post("/api/chats", json={"model_id": "openai/gpt-4o"})
    assert refused.status_code == 429
    assert refused.json()["code"] == "requests_per_minute"
    assert refused.json()["error"].startswith(
        "You have made 30 requests in the last minute, the most you may."
    )
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    posted = api.post(f"/api/chats/{chat_ids[0]}/messages", json={"content": "hi"})
    assert posted.status_code == 429 and posted.json()["code"] == "requests_per_minute"
    assert len(api.get("/api/chats").json()) == 30 and message_count(api, chat_ids[0]) == 0
    assert fake_env.chat_requests == []


def test_an_editor_spends_from_their_own_allowance_even_on_the_owners_key(api, fake_env, operator):
    owner_email = sign_up(api)
    assert api.put("/api/keys/openai", json={"api_key": "sk-the-owners-own-key"}).status_code == 200
    chat_id = new_chat(api)
    owner = token_of(api)
    editor_email = sign_up(api)
    editor = token_of(api)
    with session_scope() as session:
        session.add(
            SharedAccess(
                chat_id=uuid.UUID(chat_id), email=editor_email, can_edit=True, user_id=user_id(editor_email)
            )
        )
    # The editor's reply runs on the owner's key, and is the editor's to account for.
    assert api.post(f"/api/chats/{chat_id}/messages", json={"content": "hi [[tokens=2]]"}).status_code == 202
    wait_for_reply(chat_in_flight(api, chat_id))
    assert fake_env.chat_requests[-1]["headers"]["authorization"] == "Bearer sk-the-owners-own-key"
    seed_spend(chat_id, user_id(editor_email), 10.5)
    refused = api.post(f"/api/chats/{chat_id}/messages", json={"content": "more on the owner's key"})
    assert refused.status_code == 429 and refused.json()["code"] == "monthly_spend"
    act_as(api, owner)
    assert (
        api.post(f"/api/chats/{chat_id}/messages", json={"content": "mine [[tokens=2]]"}).status_code == 202
    )
    wait_for_reply(chat_in_flight(api, chat_id))
    act_as(api, operator)
    people = {p["email"]: p for p in api.get("/api/admin/people").json()["people"]}
    assert people[editor_email]["spent_this_month"] >= 10.5
    assert people[owner_email]["spent_this_month"] == 0
    act_as(api, editor)
    assert api.get("/api/me").status_code == 200


ADMIN_ROUTES = [
    ("GET", "/api/admin/people", None),
    ("PATCH", "/api/admin/people/{victim}", {"disabled": True, "monthly_spend": 0.01}),
    ("PATCH", "/api/admin/people/{victim}", {"is_admin": True}),
    ("PATCH", "/api/admin/people/{self}", {"is_admin": True}),
    ("GET", "/api/admin/registration", None),
    ("PUT", "/api/admin/registration", {"mode": "closed"}),
]


def test_a_non_administrator_reaches_no_admin_route(api, operator):
    victim = sign_up(api)
    victim_id = str(user_id(victim))
    someone = sign_up(api)
    someone_id = str(user_id(someone))
    for method, path, body in ADMIN_ROUTES:
        answer = api.request(method, path.format(victim=victim_id, self=someone_id), json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert victim not in answer.text
    api.cookies.clear()
    for method, path, body in ADMIN_ROUTES:
        assert (
            api.request(method, path.format(victim=victim_id, self=someone_id), json=body).status_code == 401
        )
    # Nothing changed: the administrator sees the victim untouched and registration open.
    act_as(api, operator)
    people = {p["email"]: p for p in api.get("/api/admin/people").json()["people"]}
    assert set(people) == {"operator@example.com", victim, someone}
    assert not people[victim]["disabled"] and people[victim]["overrides"]["monthly_spend"] is None
    assert not people[victim]["is_admin"] and not people[someone]["is_admin"]
    assert api.get("/api/admin/registration").json() == {"mode": "open", "domains": []}


def test_a_disabled_accounts_open_session_stops_at_once(api, operator):
    email = sign_up(api)
    victim = token_of(api)
    assert api.get("/api/chats").status_code == 200
    act_as(api, operator)
    changed = api.patch(f"/api/admin/people/{user_id(email)}", json={"disabled": True})
    assert changed.status_code == 200 and changed.json()["disabled"] is True
    act_as(api, victim)
    assert api.get("/api/chats").status_code == 401
    api.cookies.clear()
    again = api.post("/api/auth/login", json={"email": email, "password": "correct horse"})
    assert again.status_code == 400 and again.json()["code"] == "disabled"
    assert "chat_session" not in again.cookies


def test_closed_registration_refuses_new_accounts(api, operator):
    assert api.put("/api/admin/registration", json={"mode": "closed"}).json() == {
        "mode": "closed",
        "domains": [],
    }
    api.cookies.clear()
    refused = api.post(
        "/api/auth/register", json={"email": "newcomer@example.com", "password": "correct horse"}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "registration_closed"
    assert "chat_session" not in refused.cookies
    form = api.post(
        "/api/auth/register",
        data={"email": "newcomer@example.com", "password": "correct horse"},
        follow_redirects=False,
    )
    assert form.status_code == 303 and "error=registration_closed" in form.headers["location"]
    with session_scope() as session:
        assert accounts.find_user("newcomer@example.com", session=session) is None


def test_registration_open_to_some_domains_only(api, operator):
    policy = api.put("/api/admin/registration", json={"mode": "domains", "domains": ["example.org"]})
    assert policy.json() == {"mode": "domains", "domains": ["example.org"]}
    api.cookies.clear()
    refused = api.post(
        "/api/auth/register", json={"email": "outsider@example.com", "password": "correct horse"}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "registration_closed"
    sign_up(api, "insider@example.org")
    assert api.get("/api/me").json()["email"] == "insider@example.org"
