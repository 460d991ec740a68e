import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from chat_app.models import AuthSession, utcnow
from chat_app.services import accounts, limits
from chat_app.services.errors import Invalid, TooManyAttempts
from tests.support.factories import make_user


def test_register_normalizes_the_email_and_stores_only_a_hash(session):
    user = accounts.register("  Alice@Example.COM ", "long enough pw", session=session)
    assert user.email == "alice@example.com"
    assert user.password_hash.startswith("$argon2")
    assert "long enough pw" not in user.password_hash


@pytest.mark.parametrize(
    ("email", "password", "code"),
    [
        ("not-an-email", "long enough pw", "email"),
        ("", "long enough pw", "email"),
        ("a@" + "b" * 320 + ".com", "long enough pw", "email"),
        ("bob@example.com", "short", "password"),
        ("bob@example.com", "x" * 2000, "password"),
    ],
)
def test_register_refuses_bad_input_with_a_clear_reason(session, email, password, code):
    with pytest.raises(Invalid) as err:
        accounts.register(email, password, session=session)
    assert err.value.code == code
    assert str(err.value).endswith(".")
    assert accounts.find_user("bob@example.com", session=session) is None


def test_duplicate_registration_is_refused_whatever_the_case(session):
    make_user(session, "carol@example.com")
    with pytest.raises(Invalid, match="already exists"):
        accounts.register("CAROL@example.com", "another password", session=session)


def test_wrong_password_and_unknown_email_get_the_same_message(session):
    make_user(session, "dave@example.com", "the right one")
    with pytest.raises(Invalid) as wrong_pw:
        accounts.authenticate("dave@example.com", "the wrong one", session=session)
    with pytest.raises(Invalid) as unknown:
        accounts.authenticate("nobody@example.com", "the wrong one", session=session)
    assert str(wrong_pw.value) == str(unknown.value) == "Wrong email or password."


def test_repeated_failures_slow_down_sign_in_then_expire(session, monkeypatch):
    make_user(session, "erin@example.com", "the right one")
    for _ in range(accounts.FREE_ATTEMPTS):
        with pytest.raises(Invalid):
            accounts.authenticate("erin@example.com", "nope nope", session=session)
    with pytest.raises(TooManyAttempts) as err:
        accounts.authenticate("erin@example.com", "the right one", session=session)
    assert err.value.retry_after > 0
    later = time.monotonic() + err.value.retry_after + 1
    monkeypatch.setattr(limits, "time", SimpleNamespace(monotonic=lambda: later))
    user = accounts.authenticate("erin@example.com", "the right one", session=session)
    assert user.failed_logins == 0


def test_sessions_store_a_hash_expire_and_revoke(session):
    user = make_user(session)
    token = accounts.create_session(user, session=session, days=1)
    session.commit()
    stored = session.exec(select(AuthSession)).one()
    assert stored.token_hash != token and len(stored.token_hash) == 64
    assert accounts.user_for_token(token, session=session).id == user.id
    assert accounts.user_for_token(token + "x", session=session) is None
    assert accounts.user_for_token(token, session=session, now=utcnow() + timedelta(days=2)) is None
    accounts.revoke_session(token, session=session)
    session.commit()
    assert accounts.user_for_token(token, session=session) is None


def test_oidc_matches_by_verified_email_only(session):
    with pytest.raises(Invalid, match="verified"):
        accounts.user_for_oidc("frank@example.com", False, session=session)
    created = accounts.user_for_oidc("Frank@Example.com", True, session=session)
    assert created.email == "frank@example.com" and created.email_verified
    assert accounts.user_for_oidc("frank@example.com", True, session=session).id == created.id


def test_oidc_claiming_an_unverified_password_account_drops_its_password_and_sessions(session):
    squatter = make_user(session, "grace@example.com", "squatters pw")
    token = accounts.create_session(squatter, session=session)
    session.commit()
    owner = accounts.user_for_oidc("grace@example.com", True, session=session)
    session.commit()
    assert owner.id == squatter.id and owner.password_hash is None
    assert accounts.user_for_token(token, session=session) is None
