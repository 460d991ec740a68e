"""Animated WebPs read chunk by chunk: frames counted from their frame chunks, and copied
without metadata.

A WebP is a RIFF file of chunks (four-letter name, size, data). The canvas, colour profile,
animation and pictures are known chunks; EXIF, XMP and anything else are left out, inside the
frames too, and the header's flags stop announcing them. Pictures are copied; nothing is decoded.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from chat_app.services.media.outline import Outline

_HEADER_SIZE = 12  # b"RIFF", the size of what follows, b"WEBP"
_KEPT = frozenset({b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"})
_PICTURE = frozenset({b"ALPH", b"VP8 ", b"VP8L"})  # what a frame holds
_FRAME_HEADER_SIZE = 16  # position, size, duration and flags, before the frame's picture
_EXIF_AND_XMP_FLAGS = 0x08 | 0x04


def outline(data: bytes, *, stop_after: int) -> Outline:
    width = height = frames = 0
    for name, start, _end in _chunks(data, _HEADER_SIZE, _riff_end(data)):
        if name == b"VP8X":
            width, height = _u24(data, start + 12) + 1, _u24(data, start + 15) + 1
        elif name == b"ANMF":
            frames += 1
            x, y = 2 * _u24(data, start + 8), 2 * _u24(data, start + 11)
            w, h = _u24(data, start + 14) + 1, _u24(data, start + 17) + 1
            width, height = max(width, x + w), max(height, y + h)
            if frames > stop_after:
                break
    return Outline(frames, width, height)


def without_metadata(data: bytes) -> bytes:
    kept = []
    for name, start, end in _chunks(data, _HEADER_SIZE, _riff_end(data)):
        if name == b"VP8X":
            flags = data[start + 8] & ~_EXIF_AND_XMP_FLAGS
            kept.append(data[start : start + 8] + bytes([flags]) + data[start + 9 : end])
        elif name == b"ANMF":
            body = start + 8 + _FRAME_HEADER_SIZE
            picture = [data[s:e] for n, s, e in _chunks(data, body, end) if n in _PICTURE]
            kept.append(_chunk(b"ANMF", data[start + 8 : body] + b"".join(picture)))
        elif name in _KEPT:
            kept.append(data[start:end])
    body = b"".join(kept)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _riff_end(data: bytes) -> int:
    (size,) = struct.unpack_from("<I", data, 4)
    return min(8 + size, len(data))


def _chunks(data: bytes, at: int, stop: int) -> Iterator[tuple[bytes, int, int]]:
    """(name, start, end) of each chunk between `at` and `stop`, padding included in `end`.

    ValueError when a chunk runs past `stop`.
    """
    while at < stop:
        if at + 8 > stop:
            raise ValueError("the WebP ends inside a chunk header")
        name, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        end = at + 8 + size
        if end > stop:
            raise ValueError("the WebP ends inside a chunk")
        end = min(end + (size & 1), stop)  # chunks are padded to an even size
        yield name, at, end
        at = end


def _chunk(name: bytes, payload: bytes) -> bytes:
    padding = b"\0" if len(payload) & 1 else b""
    return name + struct.pack("<I", len(payload)) + payload + padding


def _u24(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 3], "little")
