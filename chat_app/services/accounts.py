"""Users, password hashing, server-side sessions and OpenID Connect account matching."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, select

from chat_app.models import AuthSession, User, utcnow
from chat_app.services import admin, registration
from chat_app.services.errors import Invalid, TooManyAttempts

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
# After this many failures in a row, each further attempt waits longer (doubling, capped).
FREE_ATTEMPTS = 5
MAX_LOCK_SECONDS = 15 * 60

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


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


def register(email: str, password: str, *, session: Session) -> User:
    email = normalize_email(email)
    _check_password(password)
    if find_user(email, session=session) is not None:
        raise Invalid("An account with this email already exists. Sign in instead.", code="exists")
    user = registration.new_account(email, session=session)  # refused when registration is closed to it
    user.password_hash = _hasher.hash(password)
    session.add(user)
    session.flush()
    return user


def _lock_seconds_left(user: User, now: datetime) -> int:
    if user.failed_logins < FREE_ATTEMPTS or user.last_failed_login_at is None:
        return 0
    wait = min(2 ** (user.failed_logins - FREE_ATTEMPTS) * 2, MAX_LOCK_SECONDS)
    left = (user.last_failed_login_at + timedelta(seconds=wait) - now).total_seconds()
    return max(0, int(left + 0.999))


def authenticate(email: str, password: str, *, session: Session, now: datetime | None = None) -> User:
    """The user for these credentials; one generic error whatever was wrong."""
    now = now or utcnow()
    wrong = Invalid("Wrong email or password.", code="credentials")
    try:
        email = normalize_email(email)
    except Invalid:
        raise wrong from None
    user = find_user(email, session=session)
    if user is None or user.password_hash is None:
        _verify(_DUMMY_HASH, password)
        raise wrong
    left = _lock_seconds_left(user, now)
    if left:
        raise TooManyAttempts(f"Too many failed attempts. Try again in {left} seconds.", retry_after=left)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        user.last_failed_login_at = now
        session.add(user)
        session.commit()  # the failure must count even though we raise
        raise wrong
    admin.refuse_if_disabled(user)
    if user.failed_logins:
        user.failed_logins = 0
        user.last_failed_login_at = None
        session.add(user)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(user: User, *, session: Session, days: float = 30.0) -> str:
    """Start a server-side session; returns the raw token for the cookie (stored only hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            user_id=user.id,
            token_hash=_hash_token(token),
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    session.flush()
    return token


def user_for_token(token: str | None, *, session: Session, now: datetime | None = None) -> User | None:
    if not token or len(token) > 256:
        return None
    now = now or utcnow()
    # One query: every request and every page event asks it.
    return session.exec(
        select(User)
        .join(AuthSession, col(AuthSession.user_id) == User.id)
        .where(
            AuthSession.token_hash == _hash_token(token),
            col(AuthSession.revoked_at).is_(None),
            AuthSession.expires_at > now,
            col(User.disabled).is_(False),
        )
    ).first()


def revoke_session(token: str | None, *, session: Session) -> None:
    if not token:
        return
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == _hash_token(token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = datetime.now(timezone.utc)
        session.add(row)


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
        # The provider proved ownership of this email; whoever set the password did not.
        # Drop that password and its sessions so a pre-registered account cannot be hijacked.
        user.email_verified = True
        user.password_hash = None
        for row in session.exec(
            select(AuthSession).where(AuthSession.user_id == user.id, col(AuthSession.revoked_at).is_(None))
        ):
            row.revoked_at = utcnow()
            session.add(row)
        session.add(user)
    admin.refuse_if_disabled(user)
    return user
