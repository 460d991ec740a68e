"""GIFs read block by block: frames counted from their descriptors, and copied without metadata.

A GIF is a header, then blocks: pictures (a descriptor and compressed pixels) and extensions.
Metadata lives only in extensions (comments, XMP and ICC application blocks, plain text), so
copying the pictures with their timing and loop blocks keeps every frame exactly as it was.
Nothing is decoded; the file is walked once, and the walk stops as soon as it passes the bound.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from chat_app.services.media.outline import Outline

_TRAILER = b";"
# Kept exactly as the format defines them, so no other bytes ride along inside.
_TIMING_SIZE = 8  # graphic control: b"!\xf9\x04" + flags, delay (2), transparent index + b"\x00"
_LOOP_SIZE = 19  # b"!\xff\x0b" + NETSCAPE2.0 or ANIMEXTS1.0 + b"\x03\x01" + count (2) + b"\x00"
_LOOP_NAMES = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def outline(data: bytes, *, stop_after: int) -> Outline:
    width, height = struct.unpack_from("<HH", data, 6)
    frames = 0
    for kind, start, _end in _blocks(data):
        if kind == "picture":
            frames += 1
            left, top, w, h = struct.unpack_from("<HHHH", data, start + 1)
            width, height = max(width, left + w), max(height, top + h)
            if frames > stop_after:
                break
    return Outline(frames, width, height)


def without_metadata(data: bytes) -> bytes:
    kept = [data[: _header_end(data)]]
    kept += [data[start:end] for kind, start, end in _blocks(data) if kind != "dropped"]
    return b"".join([*kept, _TRAILER])


def _header_end(data: bytes) -> int:
    """Signature, screen descriptor and the global colour table if there is one."""
    flags = data[10]
    return 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)


def _blocks(data: bytes) -> Iterator[tuple[str, int, int]]:
    """(picture | timing | loop | dropped, start, end) of each block up to the trailer.

    ValueError when the file ends inside a block; a file without a trailer ends after its last block.
    """
    try:
        at = _header_end(data)
        while at < len(data) and data[at : at + 1] != _TRAILER:
            start = at
            if data[at] == 0x2C:  # a picture: descriptor, local colour table, LZW code size, data
                flags = data[at + 9]
                at += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1
                at = _after_sub_blocks(data, at)
                yield "picture", start, at
            elif data[at] == 0x21:  # an extension: its label, then sub-blocks
                at = _after_sub_blocks(data, at + 2)
                yield _extension_kind(data, start, at), start, at
            else:
                raise ValueError("not a GIF block")
    except IndexError:
        raise ValueError("the GIF ends inside a block") from None


def _after_sub_blocks(data: bytes, at: int) -> int:
    """Past a chain of sub-blocks: each a size byte and that many bytes, ended by a size of 0."""
    while size := data[at]:
        at += 1 + size
    return at + 1


def _extension_kind(data: bytes, start: int, end: int) -> str:
    label, size = data[start + 1], end - start
    if label == 0xF9 and size == _TIMING_SIZE and data[start + 2] == 4:
        return "timing"
    if (
        label == 0xFF
        and size == _LOOP_SIZE
        and data[start + 2] == 11
        and data[start + 3 : start + 14] in _LOOP_NAMES
        and data[start + 14 : start + 16] == b"\x03\x01"
    ):
        return "loop"
    return "dropped"
