"""A file from a remote store answered as a browser's player asks for it: whole, or the one byte
range of a `Range` header (video seeking), streamed as it is read."""

from __future__ import annotations

import re
from collections.abc import Iterator

from starlette.responses import Response, StreamingResponse

from chat_app.services.storage import Storage

CHUNK = 256 * 1024
_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class Unsatisfiable(Exception):
    pass


def requested_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte asked for, inclusive; None for the whole file (no header, or one this
    does not read: several ranges may be answered with the whole file)."""
    if not header:
        return None
    match = _SINGLE_RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            raise Unsatisfiable
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise Unsatisfiable
    return start, end


def _stream(storage: Storage, key: str, start: int, end: int) -> Iterator[bytes]:
    remaining = end - start + 1
    with storage.open_range(key, start, end) as f:
        while remaining > 0 and (block := f.read(min(CHUNK, remaining))):
            remaining -= len(block)
            yield block


def file_response(
    storage: Storage, key: str, mime: str, headers: dict[str, str], range_header: str | None
) -> Response:
    size = storage.size(key)
    headers = {**headers, "Accept-Ranges": "bytes"}
    try:
        asked = requested_range(range_header, size)
    except Unsatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if asked is None:
        if size == 0:
            return Response(b"", media_type=mime, headers=headers)
        return StreamingResponse(
            _stream(storage, key, 0, size - 1),
            media_type=mime,
            headers={**headers, "Content-Length": str(size)},
        )
    start, end = asked
    return StreamingResponse(
        _stream(storage, key, start, end),
        status_code=206,
        media_type=mime,
        headers={
            **headers,
            "Content-Length": str(end - start + 1),
            "Content-Range": f"bytes {start}-{end}/{size}",
        },
    )
