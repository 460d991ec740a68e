"""Uploads and the access-checked file route.

`POST /api/upload` parses multipart as it arrives and hands each file's bytes to the media
service piece by piece, so a large video never sits whole in memory or in a spool file.
"""

from __future__ import annotations

import asyncio
import uuid
from email.message import Message as HeaderParser
from functools import partial
from typing import TYPE_CHECKING

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from chat_app.api.endpoints import Router, in_session
from chat_app.models import User
from chat_app.services import access, media
from chat_app.services.errors import Invalid, NotFound
from chat_app.services.storage import files_deleted_on_error, get_storage
from chat_app.services.views import MediaView, media_view

MAX_FILES_PER_REQUEST = 10
MULTIPART_SLACK = 64 * 1024  # headers and boundaries around the files themselves

router = Router()

if TYPE_CHECKING:  # declared for type checkers only
    from python_multipart.multipart import MultipartCallbacks


class _FileParts:
    """Multipart callbacks that feed every file part into its own media intake."""

    def __init__(self):
        self.intakes: list[media.Intake] = []
        self._current: media.Intake | None = None
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[str, str] = {}

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: setattr(self, "_header_name", self._header_name + d[s:e]),
            "on_header_value": lambda d, s, e: setattr(self, "_header_value", self._header_value + d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._current = {}, None

    def _header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = self._header_value.decode(
            "utf-8", "replace"
        )
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        parsed = HeaderParser()
        parsed["content-disposition"] = self._headers.get("content-disposition", "")
        filename = parsed.get_param("filename", header="content-disposition")
        if filename is None:
            return  # a plain form field: ignored
        if len(self.intakes) >= MAX_FILES_PER_REQUEST:
            raise Invalid(f"Send at most {MAX_FILES_PER_REQUEST} files at once.")
        self._current = media.Intake(str(filename), self._headers.get("content-type"))
        self.intakes.append(self._current)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current is not None:
            self._current.write(data[start:end])

    def _part_end(self) -> None:
        self._current = None

    def discard(self) -> None:
        for intake in self.intakes:
            intake.discard()


@router.post("/api/upload", status_code=201)
async def upload(user: User, request: Request) -> dict:
    """Runs on the event loop to read the stream; the user is known before a byte of it is read."""
    kind, params = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise Invalid("Send files as multipart/form-data, in a field named `file`.")
    declared = int(request.headers.get("content-length") or 0)
    limits = media.Limits.configured()
    if declared > MAX_FILES_PER_REQUEST * max(limits.image_bytes, limits.video_bytes) + MULTIPART_SLACK:
        raise Invalid("This upload is larger than the file size limits allow.")
    parts = _FileParts()
    parser = MultipartParser(params[b"boundary"], parts.callbacks())
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError:  # a malformed part (found by the API's fuzz run)
            raise Invalid("This upload is not well-formed multipart/form-data.") from None
        if not parts.intakes:
            raise Invalid("Attach at least one file, in a field named `file`.")
        stored = [await asyncio.to_thread(intake.finish) for intake in parts.intakes]
    finally:
        parts.discard()
    with files_deleted_on_error(media.storage_keys(stored)):
        views = await in_session(partial(_record, stored, user.id))
    return {"files": views}


def _record(stored: list[media.Stored], owner_id: uuid.UUID, session: Session) -> list[MediaView]:
    return [media_view(media.record(s, owner_id=owner_id, session=session)) for s in stored]


@router.get("/api/media/{media_id}")
def media_file(user: User | None, session: Session, media_id: str) -> Response:
    row = access.authorize_media(user, media_id, session=session)
    return _file_response(row.storage_key, row.mime_type)


@router.get("/api/media/{media_id}/thumb")
def media_thumb(user: User | None, session: Session, media_id: str) -> Response:
    row = access.authorize_media(user, media_id, session=session)
    if row.thumb_key is None:
        raise NotFound("This file has no preview.", code="not_found")
    return _file_response(row.thumb_key, "image/jpeg")


def _file_response(key: str, mime: str) -> Response:
    headers = {
        "X-Content-Type-Options": "nosniff",
        # Opened directly, a file can never run script or load anything.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": "inline",
    }
    storage = get_storage()
    path = storage.local_path(key)
    if path is not None:
        return FileResponse(path, media_type=mime, headers=headers)  # answers Range requests itself

    def chunks():
        with storage.open(key) as f:
            while block := f.read(media.CHUNK):
                yield block

    return StreamingResponse(chunks(), media_type=mime, headers=headers)
