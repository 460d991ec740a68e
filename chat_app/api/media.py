"""Uploads and the access-checked file route.

`POST /api/upload` parses multipart as it arrives and hands each file's bytes to the media
service piece by piece, so a large video never sits whole in memory or in a spool file. Each
file is judged as soon as its part ends. An upload is kept whole or not at all: the first file
refused (or one past the request's limits) ends the request with its sentence, nothing kept.
"""

from __future__ import annotations

import uuid
from email.message import Message as HeaderParser
from functools import partial
from typing import TYPE_CHECKING

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from chat_app.api import byte_ranges
from chat_app.api.endpoints import Router, in_session
from chat_app.models import User
from chat_app.services import access, media
from chat_app.services.errors import Invalid, NotFound
from chat_app.services.storage import files_deleted_on_error, get_storage
from chat_app.services.views import MediaView, media_view
from chat_app.settings import get_settings

MULTIPART_SLACK = 64 * 1024  # headers and boundaries around the files themselves

router = Router()

if TYPE_CHECKING:  # declared for type checkers only
    from python_multipart.multipart import MultipartCallbacks


class _FileParts:
    """Multipart callbacks that feed every file part into the request's upload batch."""

    def __init__(self, batch: media.UploadBatch):
        self.batch = batch
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[str, str] = {}
        self._in_file = False

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
        self._headers, self._in_file = {}, False

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
        self._in_file = True
        self.batch.begin(str(filename), self._headers.get("content-type"))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.batch.write(data[start:end])

    def _part_end(self) -> None:
        if self._in_file:
            self.batch.end()
        self._in_file = False


@router.post("/api/upload", status_code=201)
async def upload(user: User, request: Request) -> dict:
    """Runs on the event loop to read the stream; the user is known before a byte of it is read."""
    kind, params = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise Invalid("Send files as multipart/form-data, in a field named `file`.")
    limits = media.Limits.configured()
    carried_at_most = limits.upload_bytes + MULTIPART_SLACK
    if int(request.headers.get("content-length") or 0) > carried_at_most:
        raise Invalid(media.past_upload_bytes(limits))
    batch = media.UploadBatch(used=await in_session(partial(_stored_bytes, user.id)), limits=limits)
    parser = MultipartParser(params[b"boundary"], _FileParts(batch).callbacks())
    try:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > carried_at_most:  # a body sent without its length
                raise Invalid(media.past_upload_bytes(limits))
            parser.write(chunk)
            await batch.judge()
            if batch.refused:
                raise Invalid(" ".join(batch.refused))
        parser.finalize()
        await batch.finish()
        if batch.refused:
            raise Invalid(" ".join(batch.refused))
        if not batch.stored:
            raise Invalid("Attach at least one file, in a field named `file`.")
    except MultipartParseError:
        batch.discard()
        raise Invalid("This upload is not well-formed multipart/form-data.") from None
    except BaseException:
        batch.discard()  # a stop too: these files were written here and have no record
        raise
    with files_deleted_on_error(batch.written):
        views = await in_session(partial(_record, batch.stored, user.id, limits))
    return {"files": views}


def _stored_bytes(owner_id: uuid.UUID, session: Session) -> int:
    return media.stored_bytes(owner_id, session=session)


def _record(
    stored: list[media.Stored], owner_id: uuid.UUID, limits: media.Limits, session: Session
) -> list[MediaView]:
    rows = media.record_uploads(stored, owner_id=owner_id, session=session, limits=limits)
    return [media_view(row) for row in rows]


@router.get("/api/media/{media_id}")
def media_file(
    user: User | None, session: Session, media_id: str, query: QueryParams, request: Request
) -> Response:
    """`?link=<token>`: the link of the public chat the file is in, for a reader who came by it."""
    row = access.authorize_media(user, media_id, session=session, link_token=query.get("link"))
    return _file_response(row.storage_key, row.mime_type, request)


@router.get("/api/media/{media_id}/thumb")
def media_thumb(
    user: User | None, session: Session, media_id: str, query: QueryParams, request: Request
) -> Response:
    row = access.authorize_media(user, media_id, session=session, link_token=query.get("link"))
    if row.thumb_key is None:
        raise NotFound("This file has no preview.", code="not_found")
    return _file_response(row.thumb_key, "image/jpeg", request)


def _file_response(key: str, mime: str, request: Request) -> Response:
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
    seconds = get_settings().s3_signed_url_seconds
    if seconds and (url := storage.signed_url(key, seconds=seconds, mime=mime)):
        # Access was checked above; the link lets the store send the bytes, for a short while.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
    return byte_ranges.file_response(storage, key, mime, headers, request.headers.get("range"))
