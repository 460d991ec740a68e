"""People's own provider keys: encrypted at rest with the server's secret, used instead of the
server's key for their own requests, shown back only as "set" and the last four characters."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import TypedDict

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import event, orm
from sqlmodel import Session, col, select

from chat_app.models import Chat, User, UserApiKey, utcnow
from chat_app.services.errors import Invalid, NotFound
from chat_app.services.providers import PROVIDERS
from chat_app.settings import get_settings

# Providers a person can bring a key for (Ollama needs none).
KEYED_PROVIDERS = tuple(name for name, p in PROVIDERS.items() if p.key_env)


class KeySummary(TypedDict):
    provider: str
    label: str
    is_set: bool
    last4: str


def _fernet(secret: str | None = None) -> Fernet:
    digest = hashlib.sha256(
        b"chat-app user api keys\0" + (secret or get_settings().secret_key).encode()
    ).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _check_provider(provider: str) -> str:
    if provider not in KEYED_PROVIDERS:
        raise Invalid(f"Unknown provider {provider!r}: use one of {', '.join(KEYED_PROVIDERS)}.")
    return provider


def set_key(user: User, provider: str, raw_key: str, *, session: Session) -> KeySummary:
    provider = _check_provider(provider)
    raw_key = (raw_key or "").strip()
    if not 8 <= len(raw_key) <= 500 or any(c.isspace() for c in raw_key):
        raise Invalid("That does not look like an API key: paste the whole key, without spaces.")
    row = session.exec(
        select(UserApiKey).where(UserApiKey.user_id == user.id, UserApiKey.provider == provider)
    ).first() or UserApiKey(user_id=user.id, provider=provider, ciphertext="", last4="")
    row.ciphertext = _fernet().encrypt(raw_key.encode()).decode()
    row.last4, row.updated_at = raw_key[-4:], utcnow()
    session.add(row)
    session.flush()
    session.info.pop(_READ, None)
    return _summary(provider, row)


def delete_key(user: User, provider: str, *, session: Session) -> None:
    row = session.exec(
        select(UserApiKey).where(
            UserApiKey.user_id == user.id, UserApiKey.provider == _check_provider(provider)
        )
    ).first()
    if row is None:
        raise NotFound("You have no key stored for that provider.")
    session.delete(row)
    session.info.pop(_READ, None)


def _summary(provider: str, row: UserApiKey | None) -> KeySummary:
    return KeySummary(
        provider=provider,
        label=PROVIDERS[provider].label,
        is_set=row is not None,
        last4=row.last4 if row else "",
    )


def summaries(user: User, *, session: Session) -> list[KeySummary]:
    rows = {r.provider: r for r in session.exec(select(UserApiKey).where(UserApiKey.user_id == user.id))}
    return [_summary(p, rows.get(p)) for p in KEYED_PROVIDERS]


def own_key_providers(user_id: uuid.UUID | None, *, session: Session) -> set[str]:
    if user_id is None:
        return set()
    return set(session.exec(select(UserApiKey.provider).where(UserApiKey.user_id == user_id)))


def has_usable_key(user_id: uuid.UUID, provider: str, *, session: Session) -> bool:
    """Whether the person's own key for this provider can pay: stored, and readable with the
    server's secret of today (a key stored under an earlier secret cannot be used)."""
    return own_key(user_id, provider, session=session) is not None


def own_key(user_id: uuid.UUID, provider: str, *, session: Session) -> str | None:
    """The person's own key for this provider, decrypted for one call; None when they have none
    the server can read. Outside any chat (a call through the API), it is the only key of theirs
    that can pay."""
    known = session.info.get(_READ, {}).get(user_id)
    if known is not None:  # read with the chat's payers earlier in this transaction
        ciphertext = known.get(provider)
    else:
        ciphertext = session.exec(
            select(UserApiKey.ciphertext).where(
                UserApiKey.user_id == user_id, UserApiKey.provider == provider
            )
        ).first()
    return _decrypt(ciphertext) if ciphertext is not None else None


def _decrypt(ciphertext: str) -> str | None:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:  # the server secret changed: the stored key cannot be read any more
        return None


# A send asks about keys three times in its transaction (which models are usable, whether the
# asker's own key pays, which key the reply uses): the payers' keys are read once, kept for the
# rest of the transaction, and forgotten when it ends or a key is set or removed in it.
_READ = "keys read"  # session.info: (author, chat) -> their payers' keys; user -> {provider: ciphertext}


@event.listens_for(orm.Session, "after_transaction_end")
def _forget_keys_read(session: orm.Session, transaction: orm.SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint within it
        session.info.pop(_READ, None)


# Who pays for a reply, in this order: whoever asked for it, with their own key; in a shared chat,
# the chat's owner, with theirs (an editor writes on the owner's behalf); else the server's key.
# The functions below are that one rule, asked before the send and when the reply runs.


def _payers(author_id: uuid.UUID | None, chat_id: uuid.UUID):
    """Keys of the author or of the chat's owner (the owner found in the same query)."""
    owner = select(Chat.user_id).where(Chat.id == chat_id).scalar_subquery()
    return sa.or_(col(UserApiKey.user_id) == author_id, col(UserApiKey.user_id) == owner)


def _payers_keys(
    author_id: uuid.UUID | None, chat_id: uuid.UUID, *, session: Session
) -> list[tuple[uuid.UUID, str, str]]:
    """(user, provider, ciphertext) of every key that may pay in this chat (one query a transaction)."""
    read = session.info.setdefault(_READ, {})
    if (author_id, chat_id) not in read:
        rows = [
            (user_id, provider, ciphertext)
            for user_id, provider, ciphertext in session.exec(
                select(UserApiKey.user_id, UserApiKey.provider, UserApiKey.ciphertext).where(
                    _payers(author_id, chat_id)
                )
            )
        ]
        read[(author_id, chat_id)] = rows
        if author_id is not None:  # all of the author's keys are among them
            read[author_id] = {
                provider: ciphertext for user_id, provider, ciphertext in rows if user_id == author_id
            }
    return read[(author_id, chat_id)]


def paying_providers(author_id: uuid.UUID, chat_id: uuid.UUID, *, session: Session) -> frozenset[str]:
    """The providers someone's own key would pay for in this chat."""
    return frozenset(provider for _, provider, _ in _payers_keys(author_id, chat_id, session=session))


def paying_key(
    author_id: uuid.UUID | None, chat_id: uuid.UUID, provider: str, *, session: Session
) -> str | None:
    """The own key that pays for a reply with this provider's model, decrypted for one call."""
    rows = [
        (user_id, c) for user_id, p, c in _payers_keys(author_id, chat_id, session=session) if p == provider
    ]
    for _payer, ciphertext in sorted(rows, key=lambda row: row[0] != author_id):  # the author's first
        key = _decrypt(ciphertext)
        if key is not None:
            return key
    return None
