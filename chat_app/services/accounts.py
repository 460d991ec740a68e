"""Users, password hashing, server-side sessions and OpenID Connect account matching."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from typing import TypedDict

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, select

from chat_app.db import rows_changed
from chat_app.models import AuthSession, User, utcnow
from chat_app.services import registration, unproven_accounts
from chat_app.services import sign_in_limits as limits_of
from chat_app.services.errors import Invalid, NotFound
from chat_app.settings import get_settings

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
# Failed sign-ins an address may have in a window before every attempt on it is refused.
FREE_ATTEMPTS = limits_of.SIGN_IN_FAILURES_PER_ADDRESS.count
# A session's last_seen_at is written at most this often: one write per session now and then.
SEEN_EVERY = timedelta(minutes=5)
MAX_USER_AGENT = 255
MAX_CLIENT_ADDRESS = 64

_hasher = PasswordHasher()
_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_hash() -> str:
    """A hash made by the hasher in use, checked when the email is unknown so that both paths
    take the same time."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


def normalize_email(raw: str) -> str:
    """A canonical, validated email, or Invalid with a sentence saying why."""
    raw = (raw or "").strip()
    if not raw:
        raise Invalid("Enter your email address.", code="email")
    if len(raw) > 320:
        raise Invalid("That email address is too long.", code="email")
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(f"That email address is not valid: {exc}", code="email") from None
    return checked.normalized.lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.", code="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"Use a password of at most {MAX_PASSWORD_LENGTH} characters.", code="password")


def find_user(email: str, *, session: Session) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def register(email: str, password: str, *, session: Session, client: str | None = None) -> User:
    """A new password account, not yet confirmed.

    An address that has an account is refused as such: registering signs in at once, so whether an
    address was free shows anyway. What keeps addresses from being checked at scale is the low
    limit on such refusals per client, counted up front so that its refusal is the same whether the
    address is taken or not; a registration that makes an account gives that count back.
    """
    email = normalize_email(email)
    _check_password(password)
    limits_of.take_each(limits_of.registrations(email, client))
    with limits_of.counted_unless_it_succeeds(limits_of.taken_address_registrations(client)):
        if find_user(email, session=session) is not None:
            raise Invalid("An account with this email already exists. Sign in instead.", code="exists")
        user = registration.new_account(email, session=session)  # refused when registration is closed to it
        user.password_hash = _hasher.hash(password)
        session.add(user)
        session.flush()
    return user


def authenticate(email: str, password: str, *, session: Session, client: str | None = None) -> User:
    """The user for these credentials; one generic error whatever was wrong.

    Whether the address has an account changes nothing anyone can see: the same answer, a password
    check of the same cost, and the same limits (per address, known or not, and per client).
    """
    wrong = Invalid("Wrong email or password.", code="credentials")
    try:
        address = normalize_email(email)
    except Invalid:
        address = None  # no account can have it
    failures = limits_of.sign_in_failures(address or email.strip()[:320], client)
    with limits_of.counted_unless_it_succeeds(failures):
        if address is None:
            _verify(_dummy_hash(), password)
            raise wrong
        user = find_user(address, session=session)
        if not _verify(user.password_hash if user and user.password_hash else _dummy_hash(), password):
            _record_failure(address, session=session)
            raise wrong
        assert user is not None  # the dummy hash matches no password
        refuse_if_disabled(user)
    if user.failed_logins:
        user.failed_logins = 0
        user.last_failed_login_at = None
        session.add(user)
    return user


def _record_failure(email: str, *, session: Session) -> None:
    """Count a failed sign-in on the account in one statement (parallel failures all count), and
    commit it although the caller raises. The same statement runs for an unknown address, where it
    changes nothing: both paths cost the same."""
    session.execute(
        sa.update(User)
        .where(col(User.email) == email)
        .values(failed_logins=col(User.failed_logins) + 1, last_failed_login_at=utcnow())
    )
    session.commit()


def change_password(
    user: User,
    current_password: str,
    new_password: str,
    *,
    session: Session,
    keep_token: str | None,
    client: str | None = None,
) -> int:
    """Set a new password, the current one required, and end every other session of the account
    (someone who learned the old password may hold one). Returns how many ended.

    A wrong current password counts as a failed sign-in: a stolen session cannot try passwords.
    """
    if user.password_hash is None:
        raise Invalid(
            "Your account signs in through your identity provider: it has no password to change.",
            code="no_password",
        )
    _check_password(new_password)
    with limits_of.counted_unless_it_succeeds(limits_of.sign_in_failures(user.email, client)):
        if not _verify(user.password_hash, current_password):
            _record_failure(user.email, session=session)
            raise Invalid("Your current password is not right.", code="current_password")
    user.password_hash = _hasher.hash(new_password)
    user.failed_logins = 0
    user.last_failed_login_at = None
    session.add(user)
    return end_other_sessions(user, keep_token, session=session)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """What is stored of a bearer secret (a session's, an API token's): its SHA-256, so a database
    leak yields nothing usable."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(
    user: User, *, session: Session, days: float = 30.0, user_agent: str = "", client: str = ""
) -> str:
    """Start a server-side session; returns the raw token for the cookie (stored only hashed).

    The browser and address it started from are kept, so its owner can tell it from their others.
    The account's ended sessions are deleted meanwhile: the table holds what may still be used.
    """
    now = utcnow()
    session.execute(sa.delete(AuthSession).where(col(AuthSession.user_id) == user.id, ~_is_live(now)))
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=days),
            user_agent=user_agent[:MAX_USER_AGENT] or None,
            client_address=client[:MAX_CLIENT_ADDRESS] or None,
        )
    )
    session.flush()
    return token


def _is_live(now: datetime) -> sa.ColumnElement[bool]:
    """Not ended, not past its lifetime, not unused for longer than sessions may idle."""
    idle = timedelta(days=get_settings().session_idle_days)
    return sa.and_(
        col(AuthSession.revoked_at).is_(None),
        col(AuthSession.expires_at) > now,
        col(AuthSession.last_seen_at) > now - idle,
    )


def user_for_token(token: str | None, *, session: Session, now: datetime | None = None) -> User | None:
    if not token or len(token) > 256:
        return None
    now = now or utcnow()
    # One query: every request and every page event asks it.
    found = session.exec(
        select(User, AuthSession.id, AuthSession.last_seen_at)
        .join(AuthSession, col(AuthSession.user_id) == User.id)
        .where(AuthSession.token_hash == hash_token(token), _is_live(now), col(User.disabled).is_(False))
    ).first()
    if found is None:
        return None
    user, session_id, last_seen = found
    if last_seen < now - SEEN_EVERY:
        # Conditional, so requests of one session racing here write once.
        session.execute(
            sa.update(AuthSession)
            .where(col(AuthSession.id) == session_id, col(AuthSession.last_seen_at) < now - SEEN_EVERY)
            .values(last_seen_at=now)
        )
    return user


def revoke_session(token: str | None, *, session: Session) -> None:
    if not token:
        return
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == hash_token(token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = datetime.now(timezone.utc)
        session.add(row)


class SessionSummary(TypedDict):
    """One of a person's signed-in sessions, as their settings page lists it."""

    id: str
    created_at: str  # ISO 8601, UTC
    last_seen_at: str
    created: str  # the same, for people
    last_seen: str
    device: str  # "Firefox on Linux", from the browser's own description
    user_agent: str
    client_address: str
    is_current: bool  # the session asking


def sessions_of(user: User, *, session: Session, current_token: str | None) -> list[SessionSummary]:
    """The account's sessions that may still be used, the most recently used first."""
    current = hash_token(current_token) if current_token else None
    rows = session.exec(
        select(AuthSession)
        .where(AuthSession.user_id == user.id, _is_live(utcnow()))
        .order_by(col(AuthSession.last_seen_at).desc())
    ).all()
    return [
        SessionSummary(
            id=str(row.id),
            created_at=row.created_at.isoformat(),
            last_seen_at=row.last_seen_at.isoformat(),
            created=time_label(row.created_at),
            last_seen=time_label(row.last_seen_at),
            device=device_of(row.user_agent or ""),
            user_agent=row.user_agent or "",
            client_address=row.client_address or "",
            is_current=row.token_hash == current,
        )
        for row in rows
    ]


def time_label(moment: datetime) -> str:
    """A moment as the settings page shows it (sessions, API tokens)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# Checked in order: Edge's and Opera's descriptions name Chrome too, and Chrome's names Safari.
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"))
_BROWSERS += (("Safari/", "Safari"),)
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"))
_SYSTEMS += (("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_of(user_agent: str) -> str:
    """A name people recognise for the browser that sent this User-Agent."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:60] or "Unknown device"


def end_session(user: User, session_id: str, *, session: Session) -> None:
    """End one of the account's own sessions (NotFound for any other)."""
    try:
        wanted = uuid.UUID(session_id)
    except ValueError:
        raise NotFound("That session does not exist or has ended.") from None
    ended = session.execute(
        sa.update(AuthSession)
        .where(col(AuthSession.id) == wanted, col(AuthSession.user_id) == user.id, _is_live(utcnow()))
        .values(revoked_at=utcnow())
    )
    if not rows_changed(ended):
        raise NotFound("That session does not exist or has ended.")


def end_other_sessions(user: User, keep_token: str | None, *, session: Session) -> int:
    """End every session of the account but the one holding `keep_token`, at once; how many ended."""
    others = col(AuthSession.token_hash) != hash_token(keep_token) if keep_token else sa.true()
    ended = session.execute(
        sa.update(AuthSession)
        .where(col(AuthSession.user_id) == user.id, col(AuthSession.revoked_at).is_(None), others)
        .values(revoked_at=utcnow())
    )
    return rows_changed(ended)


DISABLED = "This account has been disabled. Ask the server's administrator."


def refuse_if_disabled(user: User) -> None:
    """An administrator switched this account off: it cannot sign in."""
    if user.disabled:
        raise Invalid(DISABLED, code="disabled")


def user_for_oidc(email: str | None, email_verified: bool, *, session: Session) -> User:
    """Match an OpenID Connect sign-in to an account by verified email, creating one if new."""
    if not email or not email_verified:
        raise Invalid("Your identity provider did not confirm a verified email address.", code="unverified")
    email = normalize_email(email)
    user = find_user(email, session=session)
    if user is None:
        user = registration.new_account(email, session=session)
        user.email_verified = True
        session.add(user)
        session.flush()
    elif not user.email_verified:
        # The provider proved ownership of this email; whoever registered it did not. Nothing
        # they set up reaches the owner: their password, sessions, keys and shares end here.
        unproven_accounts.cut_loose(user, session=session)
        user.email_verified = True
        session.add(user)
    refuse_if_disabled(user)
    return user
