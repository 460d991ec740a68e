import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from chat_app.models import AuthSession, utcnow
from chat_app.services import accounts, limits, sign_in_limits
from chat_app.services.errors import Invalid, NotFound, TooManyAttempts
from chat_app.settings import get_settings
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


def test_unknown_addresses_and_missing_passwords_are_checked_like_any_other(session, monkeypatch):
    make_user(session, "judy@example.com", "the right one")
    checked: list[str] = []
    verify = accounts._verify
    monkeypatch.setattr(
        accounts, "_verify", lambda stored, given: checked.append(stored) or verify(stored, given)
    )
    for email in ("judy@example.com", "nobody@example.com", "not an address"):
        with pytest.raises(Invalid, match="Wrong email or password."):
            accounts.authenticate(email, "the wrong one", session=session)
    assert len(checked) == 3 and checked[1] == checked[2] == accounts._dummy_hash()
    assert checked[1].startswith("$argon2")  # made by the hasher in use: the same cost


def test_failures_are_counted_per_address_for_unknown_addresses_too(session):
    for _ in range(accounts.FREE_ATTEMPTS):
        with pytest.raises(Invalid):
            accounts.authenticate("nobody@example.com", "the wrong one", session=session)
    with pytest.raises(TooManyAttempts):
        accounts.authenticate("NOBODY@example.com", "the wrong one", session=session)


def test_a_success_uses_up_nothing_and_resets_the_count(session):
    user = make_user(session, "kim@example.com", "the right one")
    with pytest.raises(Invalid):
        accounts.authenticate("kim@example.com", "the wrong one", session=session)
    session.refresh(user)
    assert user.failed_logins == 1
    for _ in range(accounts.FREE_ATTEMPTS * 2):
        assert accounts.authenticate("kim@example.com", "the right one", session=session).failed_logins == 0
    assert limits.usage(sign_in_limits.SIGN_IN_FAILURES_PER_ADDRESS, "kim@example.com").used == 1


def test_failures_per_client_stop_one_client_over_many_addresses(session, app_settings, monkeypatch):
    monkeypatch.setenv("SIGN_IN_FAILURES_PER_IP", "3")
    get_settings.cache_clear()
    for n in range(3):
        with pytest.raises(Invalid):
            accounts.authenticate(f"user{n}@example.com", "guess", session=session, client="203.0.113.9")
    with pytest.raises(TooManyAttempts, match="from your network"):
        accounts.authenticate("user9@example.com", "guess", session=session, client="203.0.113.9")
    with pytest.raises(Invalid):  # another client is not held back
        accounts.authenticate("user9@example.com", "guess", session=session, client="198.51.100.1")


def test_registration_limits_count_taken_addresses_per_client(session, app_settings, monkeypatch):
    monkeypatch.setenv("TAKEN_ADDRESS_REGISTRATIONS_PER_IP", "2")
    get_settings.cache_clear()
    for n in range(4):  # new accounts give their count back
        accounts.register(f"new{n}@example.com", "long enough", session=session, client="203.0.113.9")
    for n in range(2):
        with pytest.raises(Invalid, match="already exists"):
            accounts.register(f"new{n}@example.com", "long enough", session=session, client="203.0.113.9")
    for email in ("new3@example.com", "brand-new@example.com"):
        with pytest.raises(TooManyAttempts):
            accounts.register(email, "long enough", session=session, client="203.0.113.9")
    assert accounts.find_user("brand-new@example.com", session=session) is None


def _session_row(session, token: str) -> AuthSession:
    return session.exec(select(AuthSession).where(AuthSession.token_hash == accounts.hash_token(token))).one()


def test_sessions_are_listed_with_their_device_and_the_current_one_marked(session):
    user, other = make_user(session), make_user(session)
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    here = accounts.create_session(user, session=session, user_agent=firefox, client="203.0.113.9")
    accounts.create_session(user, session=session, user_agent="curl/8.5.0")
    accounts.create_session(other, session=session)
    ended = accounts.create_session(user, session=session)
    accounts.revoke_session(ended, session=session)
    session.commit()
    listed = accounts.sessions_of(user, session=session, current_token=here)
    assert len(listed) == 2
    (current,) = [s for s in listed if s["is_current"]]
    assert (current["device"], current["client_address"], current["user_agent"]) == (
        "Firefox on Linux",
        "203.0.113.9",
        firefox,
    )
    assert current["created"].endswith(" UTC") and current["last_seen_at"].startswith("20")
    assert [s["device"] for s in listed if not s["is_current"]] == ["curl/8.5.0"]


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
            "Safari on macOS",
        ),
        ("", "Unknown device"),
    ],
)
def test_devices_are_named_as_people_know_them(user_agent, device):
    assert accounts.device_of(user_agent) == device


def test_one_session_or_all_others_can_be_ended(session):
    user, other = make_user(session), make_user(session)
    here, phone, laptop = (accounts.create_session(user, session=session) for _ in range(3))
    theirs = accounts.create_session(other, session=session)
    session.commit()
    with pytest.raises(NotFound):
        accounts.end_session(user, str(_session_row(session, theirs).id), session=session)
    with pytest.raises(NotFound):
        accounts.end_session(user, "not-an-id", session=session)
    accounts.end_session(user, str(_session_row(session, phone).id), session=session)
    session.commit()
    assert accounts.user_for_token(phone, session=session) is None
    assert accounts.end_other_sessions(user, here, session=session) == 1
    session.commit()
    assert accounts.user_for_token(laptop, session=session) is None
    assert accounts.user_for_token(here, session=session).id == user.id
    assert accounts.user_for_token(theirs, session=session).id == other.id


def test_sessions_unused_for_the_idle_days_end_and_use_is_written_now_and_then(session, app_settings):
    user = make_user(session)
    token = accounts.create_session(user, session=session)
    session.commit()
    started = _session_row(session, token).last_seen_at
    soon = started + accounts.SEEN_EVERY / 2
    assert accounts.user_for_token(token, session=session, now=soon) is not None
    session.commit()
    assert _session_row(session, token).last_seen_at == started  # not written on every request
    later = started + accounts.SEEN_EVERY * 2
    assert accounts.user_for_token(token, session=session, now=later) is not None
    session.commit()
    session.expire_all()
    assert _session_row(session, token).last_seen_at == later
    idle = timedelta(days=app_settings.session_idle_days)
    assert accounts.user_for_token(token, session=session, now=later + idle - timedelta(minutes=1))
    session.commit()
    session.expire_all()
    far = _session_row(session, token).last_seen_at + idle + timedelta(minutes=1)
    assert accounts.user_for_token(token, session=session, now=far) is None


def test_a_new_session_clears_the_accounts_ended_ones(session):
    user = make_user(session)
    old = accounts.create_session(user, session=session)
    accounts.revoke_session(old, session=session)
    session.commit()
    accounts.create_session(user, session=session)
    session.commit()
    assert len(session.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all()) == 1


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(session):
    user = make_user(session, "leo@example.com", "the old one")
    here, elsewhere = (accounts.create_session(user, session=session) for _ in range(2))
    session.commit()
    with pytest.raises(Invalid) as wrong:
        accounts.change_password(user, "a guess", "the new one", session=session, keep_token=here)
    assert wrong.value.code == "current_password"
    session.refresh(user)
    assert user.failed_logins == 1  # counted as a failed sign-in
    with pytest.raises(Invalid) as short:
        accounts.change_password(user, "the old one", "short", session=session, keep_token=here)
    assert short.value.code == "password"
    assert accounts.change_password(user, "the old one", "the new one", session=session, keep_token=here) == 1
    session.commit()
    assert accounts.user_for_token(elsewhere, session=session) is None
    assert accounts.user_for_token(here, session=session) is not None
    assert accounts.authenticate("leo@example.com", "the new one", session=session).id == user.id
    with pytest.raises(Invalid):
        accounts.authenticate("leo@example.com", "the old one", session=session)


def test_an_account_without_a_password_has_none_to_change(session):
    user = accounts.user_for_oidc("mia@example.com", True, session=session)
    with pytest.raises(Invalid) as refused:
        accounts.change_password(user, "", "a new password", session=session, keep_token=None)
    assert refused.value.code == "no_password"
