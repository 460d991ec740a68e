"""Importing conversations on the settings page: the file streamed from the browser to a staging
file, no larger than MAX_IMPORT_MB, then read by the import service off the event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import IO

import reflex as rx

from chat_app.services import imports
from chat_app.services.errors import DomainError, Unauthenticated
from chat_app.services.storage import get_storage
from chat_app.settings import get_settings
from chat_app.state.attachments import drain
from chat_app.state.auth import AuthState

UPLOAD_ID = "import"


class _TooLarge(Exception):
    pass


def summary_of(report: imports.ImportReport) -> tuple[str, list[str]]:
    """What the page says of an import: a sentence, and one line per conversation left out."""
    count = len(report["imported"])
    chats = "1 chat" if count == 1 else f"{count} chats"
    sentence = f"Imported {chats} from {report['format']}."
    if report["failed"]:
        sentence += f" {len(report['failed'])} could not be imported:"
    return sentence, [_failure(f) for f in report["failed"]]


def _failure(failed: imports.Failed) -> str:
    named = f" (“{failed['title']}”)" if failed["title"] else ""
    return f"Conversation {failed['number']}{named}: {failed['error']}"


class ImportState(AuthState):
    importing: rx.Field[bool] = rx.field(False)
    import_summary: rx.Field[str] = rx.field("")
    import_failures: rx.Field[list[str]] = rx.field(default_factory=list)

    @rx.event(background=True)
    async def import_chats(self, chunks: rx.UploadChunkIterator):
        """The file picked or dropped, streamed in; each conversation a chat, or a line saying why not."""
        most = int(get_settings().max_import_mb * 1024 * 1024)
        try:
            person_id = await self._as_user(lambda user, session: user.id)
        except Unauthenticated:
            await drain(chunks, most)
            return self._login_redirect()
        async with self:
            self.importing, self.import_summary, self.import_failures = True, "", []
        failures: list[str] = []
        try:
            with get_storage().staging_file() as staged:
                await _receive(chunks, staged, most)
                report = await asyncio.to_thread(imports.import_file, person_id, Path(staged.name))
            summary, failures = summary_of(report)
        except _TooLarge:
            summary = f"Import files of at most {get_settings().max_import_mb:g} MB."
        except DomainError as exc:
            summary = str(exc)
        async with self:
            self.importing, self.import_summary, self.import_failures = False, summary, failures


async def _receive(chunks: rx.UploadChunkIterator, staged: IO[bytes], most: int) -> None:
    """The first file of the upload into `staged`; _TooLarge past `most` bytes."""
    received = 0
    files = 0
    async for chunk in chunks:
        if chunk.offset == 0:
            files += 1
        if files > 1:
            continue  # one file an import: the others are read through and left
        received += len(chunk.data)
        if received > most:
            raise _TooLarge
        staged.write(chunk.data)
    staged.flush()
