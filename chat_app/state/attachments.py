"""Attaching files in the composer: the streamed Reflex upload into the media service, and the chips."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import reflex as rx
from sqlmodel import Session

from chat_app.models import User
from chat_app.services import media
from chat_app.services.errors import Invalid, Unauthenticated
from chat_app.services.storage import files_deleted_on_error
from chat_app.services.views import media_view
from chat_app.state.auth import Refused

T = TypeVar("T")


def _chip(view) -> dict[str, str]:
    return {
        "id": view["id"],
        "kind": view["kind"],
        "name": view["name"] or view["kind"],
        "thumb_url": view["thumb_url"],
    }


class _Chunk(Protocol):
    """What Reflex's streamed upload hands over: a piece of one file (offset 0 begins a file)."""

    @property
    def filename(self) -> str: ...
    @property
    def offset(self) -> int: ...
    @property
    def content_type(self) -> str: ...
    @property
    def data(self) -> bytes: ...


async def receive(chunks: AsyncIterable[_Chunk], batch: media.UploadBatch) -> None:
    """Feed the streamed files into the batch. Each is judged (off the event loop) as soon as the
    next begins, so one staging file is open at a time; files past the limits are refused with a
    sentence and read through, until the request carries more bytes than it may: then reading stops
    (Reflex answers the upload's request itself; the notice says why)."""
    async for chunk in chunks:
        if chunk.offset == 0:  # a new file begins: the one before it has ended
            batch.end()
            await batch.judge()
            batch.begin(_base_name(chunk.filename), chunk.content_type)
        batch.write(chunk.data)
        if not batch.wants_more:
            break
    await batch.finish()


def _base_name(filename: str | None) -> str:
    """A dropped folder's files come as relative paths; the name is what they are called."""
    return (filename or "file").replace("\\", "/").rsplit("/", 1)[-1]


async def drain(chunks: AsyncIterable[_Chunk], at_most: int) -> None:
    """Read an upload that will not be kept, as Reflex expects, but no further than one may carry
    (each file counted as the media service counts it)."""
    read = 0
    async for chunk in chunks:
        read += len(chunk.data) + (media.PART_AT_LEAST if chunk.offset == 0 else 0)
        if read > at_most:
            return


def _not_saved(exc: Exception) -> str:
    if isinstance(exc, Unauthenticated):
        return "Sign in again to attach files."
    if isinstance(exc, Invalid):  # counted again as they were saved: past the storage quota
        return str(exc)
    return "The files could not be saved. Try again."


class AttachmentsMixin(rx.State, mixin=True):
    """Mixed into ChatState (which sends the attachments with the next message)."""

    # uploaded, waiting to be sent with the next message
    attachments: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    uploading: rx.Field[bool] = rx.field(False)
    upload_percent: rx.Field[int] = rx.field(0)

    if TYPE_CHECKING:  # what the states this is mixed into provide
        notice: rx.Field[str]

        async def _as_user(self, work: Callable[[User, Session], T]) -> T: ...
        async def _act(self, work: Callable[[User, Session], T]) -> T | Refused: ...
        def _login_redirect(self) -> Any: ...

    @rx.event(background=True)
    async def attach_files(self, chunks: rx.UploadChunkIterator):
        """Files picked or dropped on the attach button, streamed piece by piece into the media service."""
        limits = media.Limits.configured()
        try:  # only people who may write somewhere get their files read, judged and stored
            used = await self._as_user(lambda user, session: media.stored_bytes(user.id, session=session))
        except Unauthenticated:
            await drain(chunks, limits.upload_bytes)
            return self._login_redirect()
        async with self:
            self.uploading, self.upload_percent, self.notice = True, 0, ""
        batch = media.UploadBatch(used=used, limits=limits)
        try:
            await receive(chunks, batch)
        except BaseException:
            batch.discard()
            raise
        refused = batch.refused
        try:  # signed out meanwhile, or the records failed: keep no stray files
            with files_deleted_on_error(batch.written):
                kept = await self._as_user(
                    lambda user, session: [
                        media_view(row)
                        for row in media.record_uploads(
                            batch.stored, owner_id=user.id, session=session, limits=limits
                        )
                    ]
                )
        except Exception as exc:
            kept = []
            refused.append(_not_saved(exc))
        async with self:
            self.uploading = False
            self.attachments = [*self.attachments, *[_chip(v) for v in kept]]
            self.notice = " ".join(refused)

    @rx.event
    def upload_progress(self, progress: dict):
        self.upload_percent = int(float(progress.get("progress", 0) or 0) * 100)

    @rx.event
    async def remove_attachment(self, media_id: str):
        self.attachments = [a for a in self.attachments if a["id"] != media_id]
        await self._act(lambda user, session: media.discard_upload(user, media_id, session=session))
