"""Attacks on accounts and sign-in, each through the real HTTP API: guessing passwords in parallel,
spraying one password over many accounts, telling which addresses have accounts, squatting an
address before its owner arrives, keeping a stolen cookie, and filling a mailbox."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, select
from starlette.testclient import TestClient

from chat_app.db import get_engine
from chat_app.models import User
from chat_app.services import accounts, sign_in_limits
from tests.support.factories import api_user
from tests.support.oidc import oidc_sign_in

WRONG = "not the password"


def _login(client: TestClient, email: str, password: str = WRONG, **headers: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)


def _failed_logins(email: str) -> int:
    with Session(get_engine()) as session:
        return session.exec(select(User.failed_logins).where(User.email == email)).one()


def _new_address() -> str:
    return f"someone-{uuid.uuid4().hex[:8]}@example.com"


def test_guessing_passwords_in_parallel(api, monkeypatch):
    """12 wrong passwords at once: each is counted, and no more are checked than the limit allows."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher())  # real cost: the guesses overlap
    email = api_user(api)
    api.cookies.clear()
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: _login(api, email), range(12)))
    checked = [a for a in answers if a.status_code == 400]
    refused = [a for a in answers if a.status_code == 429]
    assert len(checked) == accounts.FREE_ATTEMPTS and len(refused) == 12 - accounts.FREE_ATTEMPTS
    assert _failed_logins(email) == len(checked)
    # The owner waits out the window like the guesser.
    assert _login(api, email, "correct horse").status_code == 429


def test_spraying_one_password_over_many_accounts(api, app_settings):
    """One client tries a few passwords on each of 30 accounts, forging X-Forwarded-For to look
    like many clients: it is stopped at the per-client limit; the owners, elsewhere, are not."""
    emails = [api_user(api) for _ in range(30)]
    api.cookies.clear()
    per_client = app_settings.sign_in_failures_per_ip
    answers = [
        _login(api, email, f"Summer202{n}!", **{"x-forwarded-for": f"203.0.113.{i}"})
        for n in range(4)
        for i, email in enumerate(emails)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses[:per_client] == [400] * per_client
    assert set(statuses[per_client:]) == {429}
    assert int(answers[-1].headers["retry-after"]) > 0
    with TestClient(api.app, base_url="http://testserver", client=("198.51.100.7", 50000)) as owner:
        assert _login(owner, emails[0], "correct horse").status_code == 200


def test_telling_which_addresses_have_accounts_by_signing_in(api, monkeypatch):
    """A known and an unknown address get the same answers, the same password check, and the
    same refusal once the limit per address is reached."""
    known = api_user(api)
    api.cookies.clear()
    unknown = _new_address()
    checks: list[str] = []
    verify = accounts._verify
    monkeypatch.setattr(
        accounts, "_verify", lambda stored, given: checks.append(stored) or verify(stored, given)
    )
    for _ in range(accounts.FREE_ATTEMPTS):
        a, b = _login(api, known), _login(api, unknown)
        assert (
            (a.status_code, a.json())
            == (b.status_code, b.json())
            == (
                400,
                {"error": "Wrong email or password.", "code": "credentials"},
            )
        )
    assert len(checks) == 2 * accounts.FREE_ATTEMPTS  # one password check on either path
    a, b = _login(api, known), _login(api, unknown)
    assert a.status_code == b.status_code == 429
    assert a.json() == b.json() and a.headers["retry-after"] == b.headers["retry-after"]


def test_telling_which_addresses_have_accounts_by_registering(api, app_settings):
    """Registering signs in at once, so a taken address must say so; one client may meet that
    answer only a few times an hour, and then every registration it tries is refused alike."""
    taken = [api_user(api) for _ in range(app_settings.taken_address_registrations_per_ip + 1)]
    api.cookies.clear()
    for email in taken[:-1]:
        answer = api.post("/api/auth/register", json={"email": email, "password": "long enough"})
        assert answer.status_code == 400 and answer.json()["code"] == "exists"
    free = _new_address()
    refusals = [
        api.post("/api/auth/register", json={"email": email, "password": "long enough"})
        for email in (taken[-1], free)
    ]
    assert [r.status_code for r in refusals] == [429, 429]
    assert refusals[0].json() == refusals[1].json()
    with Session(get_engine()) as session:
        assert accounts.find_user(free, session=session) is None
    assert api.get("/api/me").status_code == 401


def test_squatting_an_address_then_waiting_for_its_owner(sso, oidc_provider):
    """Someone registers the owner's address with a password, stores their own provider key and
    opens a public chat; the owner signs in with their provider: the key is not theirs to use, and
    the squatter can neither sign in nor read the chat any more."""
    victim = _new_address()
    api_user(sso, victim)
    assert sso.put("/api/keys/openai", json={"api_key": "sk-squatters-own-key-1234"}).status_code == 200
    chat_id = sso.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    shared = sso.patch("/api/share", json={"chat_id": chat_id, "is_public": True})
    assert shared.status_code == 200
    token = shared.json()["link"].rsplit("/", 1)[-1]
    squatter_cookie = sso.cookies.get("chat_session")
    sso.cookies.clear()
    assert sso.get(f"/api/shared/{token}").status_code == 200  # anyone with the link can read it

    done = oidc_sign_in(sso, oidc_provider, "/", email=victim, email_verified=True)
    assert done.status_code == 303 and sso.get("/api/me").json()["email"] == victim
    assert not any(k["is_set"] for k in sso.get("/api/keys").json())
    assert len(sso.get("/api/auth/sessions").json()["sessions"]) == 1
    sso.cookies.clear()
    assert sso.get(f"/api/shared/{token}").status_code == 404
    assert sso.get(f"/api/chats/{chat_id}").status_code == 404
    assert _login(sso, victim, "correct horse").status_code == 400  # the squatter's password is gone
    sso.cookies.set("chat_session", squatter_cookie)
    assert sso.get("/api/me").status_code == 401


@pytest.mark.parametrize("how", ["sign out elsewhere", "change password"])
def test_keeping_a_stolen_cookie(api, how):
    """A copy of the cookie of one of the owner's sessions stops working when the owner, from
    another one, signs out elsewhere or changes the password."""
    email = api_user(api)
    stolen = api.cookies.get("chat_session")
    with TestClient(api.app, base_url="http://testserver") as owner:
        assert _login(owner, email, "correct horse").status_code == 200
        listed = owner.get("/api/auth/sessions").json()["sessions"]
        assert len(listed) == 2 and sum(s["is_current"] for s in listed) == 1
        if how == "sign out elsewhere":
            ended = owner.post("/api/auth/sessions/end-others")
        else:
            ended = owner.post(
                "/api/auth/password",
                json={"current_password": "correct horse", "new_password": "a brand new one"},
            )
        assert ended.status_code == 200
        assert owner.get("/api/me").status_code == 200  # the owner's own session goes on
    api.cookies.set("chat_session", stolen)
    assert api.get("/api/me").status_code == 401


def test_filling_a_mailbox_with_confirmation_emails(api, smtp_env):
    """Asking for the confirmation email again and again: a few an hour reach the mailbox."""
    email = api_user(api)
    allowed = sign_in_limits.CONFIRMATION_EMAILS_PER_ADDRESS.count
    answers = [api.post("/api/auth/verify") for _ in range(allowed + 3)]
    assert [a.status_code for a in answers] == [200] * allowed + [429] * 3
    assert len(smtp_env.messages_to(email)) == 1 + allowed  # the one sent at registration, and those
