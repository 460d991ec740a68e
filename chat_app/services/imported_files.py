"""The pictures and videos of a chat imported from this app's zip: each judged by its content and
stored like an upload, within its person's storage, or the chat is not imported at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from sqlmodel import Session

from chat_app.models import Message
from chat_app.services import media
from chat_app.services.errors import Invalid
from chat_app.services.media.bounds import past_quota
from chat_app.services.storage import Storage, files_deleted_on_error, get_storage

Opener = Callable[[str], IO[bytes]]  # a file of the archive by its name in the export


@dataclass(frozen=True)
class Attached:
    path: str  # where the export put it ("files/<id>.png"), beside the chat's JSON
    name: str | None  # the name its uploader gave it


def attach(
    person_id: uuid.UUID,
    files: Sequence[tuple[Message, Sequence[Attached]]],
    open_file: Opener,
    *,
    session: Session,
) -> int:
    """Store and record each message's files; Invalid, with the file named, for one refused (its
    content, its size, the person's storage), and none stays stored. Returns how many."""
    storage, written = get_storage(), []
    limits = media.Limits.configured()
    used = media.stored_bytes(person_id, session=session)
    count = 0
    with files_deleted_on_error(written, storage=storage, on=BaseException):
        for message, attached in files:
            for file in attached:
                stored = _stored(file, open_file, storage, limits)
                written.extend(media.storage_keys([stored]))
                if used + stored.byte_size > limits.quota_bytes:
                    raise Invalid(f"{file.name or file.path}: {past_quota(used, limits)}")
                used += stored.byte_size
                media.record(
                    stored,
                    owner_id=person_id,
                    session=session,
                    chat_id=message.chat_id,
                    message_id=message.id,
                )
                count += 1
    return count


def _stored(file: Attached, open_file: Opener, storage: Storage, limits: media.Limits) -> media.Stored:
    label = file.name or file.path
    try:
        source = open_file(file.path)
    except KeyError:
        raise Invalid(f"{label}: this file is missing from the zip.") from None
    intake = media.Intake(file.name, limits=limits, storage=storage)
    try:
        with source:
            while chunk := source.read(media.CHUNK):
                intake.write(chunk)
        return intake.finish()
    except Invalid as exc:
        raise Invalid(f"{label}: {exc}") from None
    finally:
        intake.discard()
