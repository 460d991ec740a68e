"""The rows of stored files: recorded, found, swept when never sent, deleted with their files."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, col, select

from chat_app.models import MediaFile, User, utcnow
from chat_app.services.errors import Invalid
from chat_app.services.media.bounds import Limits, past_quota
from chat_app.services.media.stored import Stored
from chat_app.services.storage import get_storage

log = logging.getLogger(__name__)


def record(
    stored: Stored,
    *,
    owner_id: uuid.UUID | None,
    session: Session,
    chat_id: uuid.UUID | None = None,
    message_id: uuid.UUID | None = None,
) -> MediaFile:
    """Save the row of a stored file. Without a message it is an upload waiting to be sent."""
    if message_id is None and owner_id is not None:
        sweep_unsent(owner_id, session=session)
    row = MediaFile(
        chat_id=chat_id,
        message_id=message_id,
        owner_id=owner_id,
        kind=stored.kind,
        mime_type=stored.mime_type,
        byte_size=stored.byte_size,
        width=stored.width,
        height=stored.height,
        duration=stored.duration,
        sha256=stored.sha256,
        storage_key=stored.storage_key,
        thumb_key=stored.thumb_key,
        original_name=stored.original_name,
    )
    session.add(row)
    session.flush()
    return row


UNSENT_KEPT_FOR = timedelta(days=1)
SWEPT_AT_ONCE = 500  # rows per statement, so a large backlog never makes one long transaction


def sweep_unsent(
    owner_id: uuid.UUID | None = None,
    *,
    session: Session,
    older_than: timedelta = UNSENT_KEPT_FOR,
    now: datetime | None = None,
) -> int:
    """Remove uploads never sent (a closed tab, a removed chip): the owner's when they upload
    again, everyone's (owner_id None) on a timer in each worker. Returns how many went.

    One statement deletes and names what it deleted, so workers sweeping at once each remove
    different rows, and only those files. Sent files have a message, and are never touched.
    Indexed: pending rows are those without a message (ix_media_files_message_id,
    ix_media_files_owner_pending).
    """
    unsent = [
        col(MediaFile.message_id).is_(None),
        col(MediaFile.created_at) < (now or utcnow()) - older_than,
    ]
    if owner_id is not None:
        unsent.append(col(MediaFile.owner_id) == owner_id)
    swept = 0
    while True:
        batch = sa.select(col(MediaFile.id)).where(*unsent).limit(SWEPT_AT_ONCE).scalar_subquery()
        gone = session.execute(
            sa.delete(MediaFile)
            .where(col(MediaFile.id).in_(batch), *unsent)
            .returning(col(MediaFile.storage_key), col(MediaFile.thumb_key))
            .execution_options(synchronize_session="fetch")
        ).all()
        delete_files_after_commit(session, [key for pair in gone for key in pair if key])
        swept += len(gone)
        if len(gone) < SWEPT_AT_ONCE:
            return swept


def stored_bytes(owner_id: uuid.UUID, *, session: Session) -> int:
    """What the owner's files take in storage, sent or not (ix_media_files_owner_pending)."""
    total = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(col(MediaFile.byte_size)), 0)).where(
            col(MediaFile.owner_id) == owner_id
        )
    ).scalar_one()
    return int(total)


def record_uploads(
    stored: list[Stored], *, owner_id: uuid.UUID, session: Session, limits: Limits
) -> list[MediaFile]:
    """Save one upload's files, waiting to be sent. The owner's storage is counted again here,
    in the transaction that adds them: two uploads at once may each have seen the same room."""
    sweep_unsent(owner_id, session=session)
    used = stored_bytes(owner_id, session=session)
    if used + sum(s.byte_size for s in stored) > limits.quota_bytes:
        raise Invalid(past_quota(used, limits))
    return [record(s, owner_id=owner_id, session=session) for s in stored]


def pending_uploads(owner: User, ids: list[str], *, session: Session) -> list[MediaFile]:
    """The actor's own unsent uploads named by `ids`, in that order; anything else is refused."""
    if not ids:
        return []
    try:
        wanted = [uuid.UUID(str(i)) for i in ids]
    except ValueError:
        raise Invalid("One of the attachments is not valid. Attach the file again.") from None
    rows = {
        row.id: row
        for row in session.exec(
            select(MediaFile).where(
                col(MediaFile.id).in_(wanted),
                MediaFile.owner_id == owner.id,
                col(MediaFile.message_id).is_(None),
            )
        )
    }
    if len(rows) != len(set(wanted)):
        raise Invalid("One of the attachments is gone or already sent. Attach the file again.")
    return [rows[i] for i in dict.fromkeys(wanted)]


def discard_upload(owner: User, media_id: str, *, session: Session) -> None:
    """Remove one of the owner's unsent uploads (a chip taken off the composer)."""
    delete(pending_uploads(owner, [media_id], session=session), session=session)


def media_of(message_ids: list[uuid.UUID], *, session: Session) -> dict[uuid.UUID, list[MediaFile]]:
    """Every file of these messages, grouped by message, in upload order (one indexed query)."""
    grouped: dict[uuid.UUID, list[MediaFile]] = {}
    if not message_ids:
        return grouped
    for row in session.exec(
        select(MediaFile)
        .where(col(MediaFile.message_id).in_(message_ids))
        .order_by(col(MediaFile.created_at))
    ):
        if row.message_id is not None:  # the query asks for sent files only
            grouped.setdefault(row.message_id, []).append(row)
    return grouped


def keys_of_chat(chat_id: uuid.UUID, *, session: Session) -> list[str]:
    """Storage keys of a chat's files, to remove once its rows are gone."""
    rows = session.execute(
        sa.select(col(MediaFile.storage_key), col(MediaFile.thumb_key)).where(
            col(MediaFile.chat_id) == chat_id
        )
    ).all()
    return [k for pair in rows for k in pair if k]


def delete(rows: list[MediaFile], *, session: Session) -> None:
    """Delete these records; their files go once the deletion is committed."""
    delete_files_after_commit(session, [k for row in rows for k in (row.storage_key, row.thumb_key) if k])
    for row in rows:
        session.delete(row)


def delete_files_after_commit(session: Session, keys: list[str]) -> None:
    """Files go only when the rows naming them are really gone."""
    if not keys:
        return
    storage = get_storage()

    def _delete(_session) -> None:
        for key in keys:
            try:
                storage.delete(key)
            except Exception:  # a disk's OSError, an object store's own errors: the rest still go
                log.warning("could not delete media file %s", key, exc_info=True)

    event.listen(session, "after_commit", _delete, once=True)
