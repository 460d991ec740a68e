"""Attaching files in the composer: the streamed Reflex upload into the media service, and the chips."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

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


async def _receive(chunks) -> tuple[list[tuple[str, media.Intake]], list[str]]:
    """Read every uploaded chunk into one intake per file; a refused file is drained and named."""
    intakes: list[tuple[str, media.Intake]] = []
    refused: list[str] = []
    current: media.Intake | None = None
    name = ""
    async for chunk in chunks:
        if chunk.offset == 0:  # a new file begins
            name = (chunk.filename or "file").replace("\\", "/").rsplit("/", 1)[-1]
            try:
                current = media.Intake(name, chunk.content_type)
                intakes.append((name, current))
            except Invalid as exc:
                current = None
                refused.append(f"{name}: {exc}")
        if current is None:
            continue  # the rest of a refused file is read and dropped
        try:
            current.write(chunk.data)
        except Invalid as exc:
            current.discard()
            intakes = [(n, i) for n, i in intakes if i is not current]
            current = None
            refused.append(f"{name}: {exc}")
    return intakes, refused


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
        try:  # only people who may write somewhere get their files read, judged and stored
            await self._as_user(lambda user, session: None)
        except Unauthenticated:
            async for _ in chunks:
                pass  # Reflex wants the request read to its end
            return self._login_redirect()
        async with self:
            self.uploading, self.upload_percent, self.notice = True, 0, ""
        intakes, refused = await _receive(chunks)

        def judge_all() -> list[media.Stored]:
            stored = []
            for name, intake in intakes:
                try:
                    stored.append(intake.finish())
                except Invalid as exc:
                    refused.append(f"{name}: {exc}")
            return stored

        stored = await asyncio.to_thread(judge_all)
        try:  # signed out meanwhile, or the records failed: keep no stray files
            with files_deleted_on_error(media.storage_keys(stored)):
                kept = await self._as_user(
                    lambda user, session: [
                        media_view(media.record(s, owner_id=user.id, session=session)) for s in stored
                    ]
                )
        except Exception as exc:
            kept = []
            refused.append(
                "Sign in again to attach files."
                if isinstance(exc, Unauthenticated)
                else "The files could not be saved. Try again."
            )
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
