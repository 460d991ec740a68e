"""Animated PNGs read chunk by chunk: frames counted from their frame controls, and copied
without metadata.

A PNG is a signature, then chunks (length, type, data, checksum). The picture, its colours and
its animation are a known set of chunks; text, EXIF, timestamps and anything private are other
chunks, left out. Kept chunks are copied whole, checksums included; nothing is decoded.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from chat_app.services.media.outline import Outline

_SIGNATURE_SIZE = 8
_KEPT = frozenset(
    {
        b"IHDR",
        b"PLTE",
        b"tRNS",
        b"gAMA",
        b"cHRM",
        b"sRGB",
        b"iCCP",  # the colour profile: kept, as still images keep it
        b"sBIT",
        b"pHYs",
        b"bKGD",
        b"acTL",
        b"fcTL",
        b"IDAT",
        b"fdAT",
        b"IEND",
    }
)


def outline(data: bytes, *, stop_after: int) -> Outline:
    width, height = struct.unpack_from(">II", data, 16)  # IHDR comes first
    frames = 0
    default_image_apart = False  # a still picture shown by viewers that do not animate
    for kind, start, _end in _chunks(data):
        if kind == b"IDAT" and frames == 0:
            default_image_apart = True
        elif kind == b"fcTL":
            frames += 1
            w, h, x, y = struct.unpack_from(">IIII", data, start + 12)
            width, height = max(width, x + w), max(height, y + h)
            if frames > stop_after:
                break
    return Outline(frames + default_image_apart, width, height)


def without_metadata(data: bytes) -> bytes:
    kept = [data[start:end] for kind, start, end in _chunks(data) if kind in _KEPT]
    return b"".join([data[:_SIGNATURE_SIZE], *kept])


def _chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk up to IEND; ValueError when the file ends before it."""
    at = _SIGNATURE_SIZE
    while at + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        end = at + 12 + length
        if end > len(data):
            break
        yield kind, at, end
        if kind == b"IEND":
            return
        at = end
    raise ValueError("the PNG ends before its last chunk")
