"""Exports people take with them: a chat as Markdown, JSON or a zip with its files; all their own
chats as one zip. Read in the route's transaction, written after it (a zip off the event loop, into
a temporary file that is streamed out and leaves nothing behind)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.responses import Response, StreamingResponse

from chat_app.api.endpoints import Router
from chat_app.models import User
from chat_app.services import transcripts
from chat_app.services.errors import Invalid
from chat_app.services.storage import get_storage

router = Router()

_TYPES = {"md": "text/markdown; charset=utf-8", "json": "application/json"}


async def _send_one(exported: tuple[transcripts.Transcript, str]) -> Response:
    chat, format = exported
    if format == "zip":
        return await _zip([chat], f"{chat.file_stem()}.zip")
    text = transcripts.as_markdown(chat) if format == "md" else transcripts.as_json(chat)
    return Response(text, media_type=_TYPES[format], headers=_attachment(f"{chat.file_stem()}.{format}"))


@router.get("/api/chats/{chat_id}/export", then=_send_one)
def export_chat(
    user: User, session: Session, chat_id: str, query: QueryParams
) -> tuple[transcripts.Transcript, str]:
    """`?format=md` (to read), `json` (to import again) or `zip` (the JSON and Markdown with the
    chat's files); a chat its members read."""
    format = query.get("format", "md")
    if format not in transcripts.FORMATS:
        raise Invalid(f"Export as one of {', '.join(transcripts.FORMATS)}.")
    return transcripts.transcript(user, chat_id, session=session), format


async def _send_all(chats: list[transcripts.Transcript]) -> Response:
    return await _zip(chats, "chats.zip")


@router.get("/api/export", then=_send_all)
def export_own_chats(user: User, session: Session) -> list[transcripts.Transcript]:
    """Every chat of one's own, a folder each (its JSON, its Markdown and its files), as one zip."""
    return transcripts.own_transcripts(user, session=session)


async def _zip(chats: list[transcripts.Transcript], name: str) -> Response:
    with get_storage().staging_file() as staged:
        await asyncio.to_thread(transcripts.write_zip, chats, Path(staged.name))
        # Opened before the staging file goes: the bytes stay readable, and nothing is left on disk
        # whenever the download ends. (A path handed to the server to send itself, as FileResponse
        # does where the server can, would be deleted while it is still being read.)
        zipped = open(staged.name, "rb")  # noqa: SIM115 - closed by the stream below
    size = os.fstat(zipped.fileno()).st_size
    return StreamingResponse(
        _read(zipped),
        media_type="application/zip",
        headers={**_attachment(name), "Content-Length": str(size)},
    )


def _read(source: BinaryIO) -> Iterator[bytes]:
    with source:
        while block := source.read(transcripts.COPY_CHUNK):
            yield block


def _attachment(name: str) -> dict[str, str]:
    """A download's name, in ASCII for every client and in UTF-8 for those that read it (RFC 6266)."""
    plain = name.encode("ascii", "replace").decode().replace("?", "_")
    return {
        "Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, no-store",
    }
