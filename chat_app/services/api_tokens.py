"""Personal API tokens: a person makes one for each program that speaks for them (`/v1`, OpenAI's
protocol), names it, sees it once, and revokes it when the program should stop.

A token is `cat_` and 43 random characters (256 bits). Only its SHA-256 is stored, with a prefix
that tells it apart on the settings page. It speaks for its person while it is not revoked and
their account is not disabled. Tokens are made and revoked only by a signed-in person (the
session cookie), never with a token: a leaked one cannot make more, nor hide by revoking others.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import TypedDict

import sqlalchemy as sa
from sqlmodel import Session, col, select

from chat_app.models import ApiToken, User, utcnow
from chat_app.services import limits
from chat_app.services.accounts import DISABLED, hash_token, time_label
from chat_app.services.errors import Invalid, NotFound, Unauthenticated

SCHEME = "cat_"  # recognisable in a leaked file or a secret scanner's rules
PREFIX_CHARS = 8  # of the random part, shown to tell tokens apart
MOST_NAME_CHARS = 100
MOST_LIVE = 20
MOST_MADE_PER_DAY = (
    50  # revoked tokens stay (see models.ApiToken): this bounds how many rows one person makes
)
USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often, not on every request

MISSING = (
    "Send a personal API token as `Authorization: Bearer cat_…`; make one on the settings page "
    "(Settings → API tokens)."
)
NOT_VALID = (
    "That API token is not valid. Check that it was copied whole, or make a new one on the settings page."
)
REVOKED = "That API token has been revoked. Make a new one on the settings page."


class TokenSummary(TypedDict):
    """A token as its person sees it after it was made: never the token itself."""

    id: str
    name: str
    prefix: str  # "cat_AbCd1234"
    created_at: str  # ISO 8601, UTC
    last_used_at: str | None
    created: str  # the same, for people
    last_used: str  # "never" until it is used


class NewToken(TokenSummary):
    token: str  # the token itself: shown this once


def _summary(row: ApiToken) -> TokenSummary:
    return TokenSummary(
        id=str(row.id),
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at.isoformat(),
        last_used_at=row.last_used_at.isoformat() if row.last_used_at else None,
        created=time_label(row.created_at),
        last_used=time_label(row.last_used_at) if row.last_used_at else "never",
    )


def _is_live() -> sa.ColumnElement[bool]:
    return col(ApiToken.revoked_at).is_(None)


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Name the token after the program that will use it, so you can tell it apart later.")
    if len(name) > MOST_NAME_CHARS:
        raise Invalid(f"Keep the token's name to {MOST_NAME_CHARS} characters.")
    return name


def create(person: User, name: str, *, session: Session) -> NewToken:
    """A new token for `person`, returned whole this once; only its hash is kept."""
    name = _clean_name(name)
    live = session.execute(
        sa.select(sa.func.count()).select_from(ApiToken).where(col(ApiToken.user_id) == person.id, _is_live())
    ).scalar_one()
    if live >= MOST_LIVE:
        raise Invalid(
            f"You have {MOST_LIVE} API tokens, the most one may have. Revoke one you no longer use first.",
            code="too_many_tokens",
        )
    limits.take(
        limits.Limit(
            "api_tokens_made",
            count=MOST_MADE_PER_DAY,
            per=24 * 3600,
            refusal=f"You have made {MOST_MADE_PER_DAY} API tokens today, the most one may make in a day.",
        ),
        str(person.id),
    )
    raw = SCHEME + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=person.id,
        name=name,
        token_hash=hash_token(raw),
        prefix=raw[: len(SCHEME) + PREFIX_CHARS],
    )
    session.add(row)
    session.flush()
    return NewToken(**_summary(row), token=raw)


def list_tokens(person: User, *, session: Session) -> list[TokenSummary]:
    """The person's tokens that still work, the newest first."""
    rows = session.exec(
        select(ApiToken)
        .where(ApiToken.user_id == person.id, _is_live())
        .order_by(col(ApiToken.created_at).desc())
    )
    return [_summary(row) for row in rows]


def revoke(person: User, token_id: str, *, session: Session) -> None:
    """The token stops working at once. Only its own person can revoke it: to anyone else (and for
    a token revoked already) it does not exist."""
    try:
        wanted = uuid.UUID(token_id)
    except ValueError:
        raise NotFound("You have no such API token.") from None
    row = session.exec(
        select(ApiToken).where(ApiToken.id == wanted, ApiToken.user_id == person.id, _is_live())
    ).first()
    if row is None:
        raise NotFound("You have no such API token.")
    row.revoked_at = utcnow()
    session.add(row)


def authenticate(raw: str | None, *, session: Session, now: datetime | None = None) -> User:
    """The person a presented token speaks for, or Unauthenticated saying what is wrong with it."""
    if not raw:
        raise Unauthenticated(MISSING, code="invalid_api_key")
    if not raw.startswith(SCHEME) or len(raw) > 256:
        raise Unauthenticated(NOT_VALID, code="invalid_api_key")  # not worth a query
    found = session.exec(
        select(ApiToken, User)
        .join(User, col(User.id) == col(ApiToken.user_id))
        .where(ApiToken.token_hash == hash_token(raw))
    ).first()
    if found is None:
        raise Unauthenticated(NOT_VALID, code="invalid_api_key")
    token, person = found
    if token.revoked_at is not None:
        raise Unauthenticated(REVOKED, code="revoked_api_key")
    if person.disabled:
        raise Unauthenticated(DISABLED, code="disabled")
    now = now or utcnow()
    if token.last_used_at is None or token.last_used_at < now - USED_EVERY:
        # Conditional, so a program's requests racing here write once.
        session.execute(
            sa.update(ApiToken)
            .where(
                col(ApiToken.id) == token.id,
                sa.or_(col(ApiToken.last_used_at).is_(None), col(ApiToken.last_used_at) < now - USED_EVERY),
            )
            .values(last_used_at=now)
        )
    return person
