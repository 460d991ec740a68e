"""A person's data on request (an operator answering a GDPR-style request, `python -m
chat_app.admin`): everything of theirs as one zip, or all of it deleted.

The export holds their account (no password hash, no key material: a key is named by provider
and last four characters, an API token by its name and prefix), their chats with every message and file
(and the summaries a model wrote of them), what they wrote (and the
replies they asked for) in chats others share with them, the chats shared with them (ids and
titles), and their spend. Files are copied into the zip piece by piece, never held whole.

Deletion removes the account and what hangs on it: sessions, keys, API tokens, spend records, their own
chats with their messages and files (the files once the deletion is committed), their uploads
never sent, and every invitation to their address. What they wrote in another person's chat
stays in that chat, without their name: it is part of that person's conversation.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from chat_app.models import (
    ApiToken,
    AuthSession,
    Chat,
    ConversationSummary,
    MediaFile,
    Message,
    SharedAccess,
    SpendRecord,
    User,
    UserApiKey,
)
from chat_app.services import media
from chat_app.services.errors import NotFound
from chat_app.services.storage import Storage, get_storage

COPY_CHUNK = 1024 * 1024


def _person(email: str, session: Session) -> User:
    user = session.exec(select(User).where(col(User.email) == email.strip().lower())).first()
    if user is None:
        raise NotFound(f"No account has the address {email}.")
    return user


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _message(row: Message, files: list[MediaFile]) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "seq": row.seq,
        "role": row.role,
        "content": row.content,
        "status": row.status,
        "model_id": row.model_id,
        "error": row.error,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cost": row.cost,
        "created_at": _when(row.created_at),
        "files": [_file_name(f) for f in files],
    }


def _summary(row: ConversationSummary) -> dict[str, Any]:
    """A summary a model wrote of the chat's earlier messages, down to one of them."""
    return {
        "through_message_id": str(row.message_id),
        "messages": row.covered,
        "content": row.content,
        "model_id": row.model_id,
        "created_at": _when(row.created_at),
    }


def _file_name(row: MediaFile) -> str:
    """Where a file sits in the zip: by its id, with its stored extension."""
    return f"files/{row.id}{PurePosixPath(row.storage_key).suffix}"


def _file_entry(row: MediaFile) -> dict[str, Any]:
    return {
        "file": _file_name(row),
        "kind": row.kind,
        "mime_type": row.mime_type,
        "byte_size": row.byte_size,
        "original_name": row.original_name,
        "chat_id": str(row.chat_id) if row.chat_id else None,
        "created_at": _when(row.created_at),
    }


@dataclass
class _Gathered:
    """Everything of one person, read in one transaction."""

    account: dict[str, Any]
    chats: list[Chat]
    messages_of_chat: dict[uuid.UUID, list[Message]]
    summaries_of_chat: dict[uuid.UUID, list[ConversationSummary]]
    files_of_message: dict[uuid.UUID, list[MediaFile]]
    files: list[MediaFile]
    written_elsewhere: list[tuple[Message, Chat]]
    shared_with_me: list[tuple[SharedAccess, Chat]]
    spend: list[SpendRecord]


def _gather(user: User, session: Session) -> _Gathered:
    chats = list(
        session.exec(select(Chat).where(col(Chat.user_id) == user.id).order_by(col(Chat.created_at)))
    )
    chat_ids = [c.id for c in chats]
    files = list(
        session.exec(
            select(MediaFile).where(
                sa.or_(col(MediaFile.chat_id).in_(chat_ids), col(MediaFile.owner_id) == user.id)
            )
        )
    )
    files_of_message: dict[uuid.UUID, list[MediaFile]] = {}
    for f in files:
        if f.message_id is not None:
            files_of_message.setdefault(f.message_id, []).append(f)
    messages_of_chat: dict[uuid.UUID, list[Message]] = {}
    for m in session.exec(
        select(Message).where(col(Message.chat_id).in_(chat_ids)).order_by(col(Message.seq))
    ):
        messages_of_chat.setdefault(m.chat_id, []).append(m)
    summaries_of_chat: dict[uuid.UUID, list[ConversationSummary]] = {}
    for summary in session.exec(
        select(ConversationSummary)
        .where(col(ConversationSummary.chat_id).in_(chat_ids))
        .order_by(col(ConversationSummary.created_at))
    ):
        summaries_of_chat.setdefault(summary.chat_id, []).append(summary)
    written_elsewhere = session.exec(
        select(Message, Chat)
        .join(Chat, col(Chat.id) == col(Message.chat_id))
        .where(col(Message.author_id) == user.id, col(Chat.user_id) != user.id)
        .order_by(col(Message.created_at))
    ).all()
    shared_with_me = session.exec(
        select(SharedAccess, Chat)
        .join(Chat, col(Chat.id) == col(SharedAccess.chat_id))
        .where(sa.or_(col(SharedAccess.user_id) == user.id, col(SharedAccess.email) == user.email))
    ).all()
    keys = session.exec(select(UserApiKey).where(col(UserApiKey.user_id) == user.id)).all()
    tokens = session.exec(
        select(ApiToken).where(col(ApiToken.user_id) == user.id).order_by(col(ApiToken.created_at))
    ).all()
    spend = session.exec(
        select(SpendRecord).where(col(SpendRecord.user_id) == user.id).order_by(col(SpendRecord.spent_at))
    ).all()
    account = {
        "id": str(user.id),
        "email": user.email,
        "display_name": user.display_name,
        "email_verified": user.email_verified,
        "created_at": _when(user.created_at),
        "default_model_id": user.default_model_id,
        "is_admin": user.is_admin,
        "disabled": user.disabled,
        "signs_in_with_password": user.password_hash is not None,
        "own_provider_keys": [{"provider": k.provider, "ends_with": k.last4} for k in keys],
        "api_tokens": [
            {
                "name": t.name,
                "starts_with": t.prefix,
                "created_at": _when(t.created_at),
                "last_used_at": _when(t.last_used_at),
                "revoked_at": _when(t.revoked_at),
            }
            for t in tokens
        ],
        "limits_set_by_an_administrator": {
            "replies_in_flight": user.max_replies_in_flight,
            "requests_per_minute": user.max_requests_per_minute,
            "monthly_spend": user.monthly_spend_limit,
        },
    }
    return _Gathered(
        account,
        chats,
        messages_of_chat,
        summaries_of_chat,
        files_of_message,
        files,
        [(m, c) for m, c in written_elsewhere],
        [(a, c) for a, c in shared_with_me],
        list(spend),
    )


def export_person(email: str, to: Path, *, session: Session) -> Path:
    """Write everything of the person at `email` to the zip at `to`; returns `to`."""
    gathered = _gather(_person(email, session), session)
    part = to.with_name(to.name + ".part")  # a failed export leaves no zip that looks whole
    try:
        _write_zip(part, gathered, get_storage())
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(to)
    return to


def _json(value: Any) -> str:
    return json.dumps(value, indent=2)


def _write_zip(part: Path, gathered: _Gathered, storage: Storage) -> None:
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", _json(gathered.account))
        for chat in gathered.chats:
            messages = gathered.messages_of_chat.get(chat.id, [])
            archive.writestr(
                f"chats/{chat.id}.json",
                _json(
                    {
                        "id": str(chat.id),
                        "title": chat.title,
                        "model_id": chat.model_id,
                        "is_public": chat.is_public,
                        "created_at": _when(chat.created_at),
                        "messages": [_message(m, gathered.files_of_message.get(m.id, [])) for m in messages],
                        "summaries": [_summary(s) for s in gathered.summaries_of_chat.get(chat.id, [])],
                    }
                ),
            )
        archive.writestr(
            "written_in_chats_shared_with_me.json",
            _json(
                [
                    {"chat_id": str(c.id), "chat_title": c.title, **_message(m, [])}
                    for m, c in gathered.written_elsewhere
                ]
            ),
        )
        archive.writestr(
            "chats_shared_with_me.json",
            _json(
                [
                    {
                        "chat_id": str(c.id),
                        "title": c.title,
                        "can_edit": a.can_edit,
                        "joined": a.user_id is not None,
                    }
                    for a, c in gathered.shared_with_me
                ]
            ),
        )
        archive.writestr(
            "spend.json",
            _json(
                [
                    {"amount": r.amount, "own_key": r.paid_with_own_key, "at": _when(r.spent_at)}
                    for r in gathered.spend
                ]
            ),
        )
        archive.writestr("files.json", _json([_file_entry(f) for f in gathered.files]))
        for f in gathered.files:
            with storage.open(f.storage_key) as source, archive.open(_file_name(f), "w") as target:
                while block := source.read(COPY_CHUNK):
                    target.write(block)


def delete_person(email: str, *, session: Session) -> dict[str, int]:
    """Delete the person at `email` and what is theirs (see the module); the caller commits, and
    their files go once it has. Returns what was deleted, by kind."""
    user = _person(email, session)
    chat_ids = list(session.exec(select(Chat.id).where(col(Chat.user_id) == user.id)))
    keys = [k for chat_id in chat_ids for k in media.keys_of_chat(chat_id, session=session)]
    unsent = list(
        session.exec(
            select(MediaFile).where(col(MediaFile.owner_id) == user.id, col(MediaFile.chat_id).is_(None))
        )
    )
    keys += [k for row in unsent for k in (row.storage_key, row.thumb_key) if k]
    counts = {
        "chats": len(chat_ids),
        "messages": session.execute(
            sa.select(sa.func.count()).select_from(Message).where(col(Message.chat_id).in_(chat_ids))
        ).scalar_one(),
        "files": len(keys),
    }
    invitations = sa.delete(SharedAccess).where(
        sa.or_(col(SharedAccess.user_id) == user.id, col(SharedAccess.email) == user.email)
    )
    counts["invitations"] = session.execute(invitations).rowcount or 0  # pyright: ignore[reportAttributeAccessIssue]
    for row in unsent:
        session.delete(row)
    # Chats cascade to their messages, files and shares; the account to its sessions, keys, API
    # tokens and spend.
    session.execute(sa.delete(Chat).where(col(Chat.user_id) == user.id))
    for table in (AuthSession, UserApiKey, ApiToken, SpendRecord):
        session.execute(sa.delete(table).where(col(table.user_id) == user.id))
    session.delete(user)
    media.delete_files_after_commit(session, keys)
    return counts
