"""Animations (GIF, animated WebP, APNG): bounded from their headers, cleaned without decoding.

Playing an animation decodes every frame, so what one costs is its frames times its canvas: a
small file can hold minutes of work. That bound is checked from the headers alone, before any
frame is decoded, and the file is then cleaned by copying its frames as they came and leaving
out the blocks that carry metadata. Frames are never decoded together, nor re-encoded (which
would cost seconds per file and change their colours).
"""

from __future__ import annotations

from typing import Protocol

from chat_app.services.errors import Invalid
from chat_app.services.media import apng, gif, webp
from chat_app.services.media.bounds import Limits, megapixels
from chat_app.services.media.outline import Outline


class _Format(Protocol):
    """What each format's module offers (gif, apng, webp)."""

    def outline(self, data: bytes, *, stop_after: int) -> Outline: ...

    def without_metadata(self, data: bytes) -> bytes: ...


_READERS: dict[str, _Format] = {"GIF": gif, "PNG": apng, "WEBP": webp}


def check(data: bytes, fmt: str, limits: Limits) -> Outline:
    """The animation's shape, or Invalid with a sentence when it is more than one may send."""
    shape = _READERS[fmt].outline(data, stop_after=limits.animation_frames)
    if shape.frames > limits.animation_frames:
        raise Invalid(
            f"This animation has more than {limits.animation_frames:,} frames, the most one may have. "
            "Send a shorter one."
        )
    if shape.pixels > limits.animation_pixels:
        raise Invalid(
            f"This animation is {shape.frames:,} frames of {shape.width:,}×{shape.height:,} pixels, "
            f"{megapixels(shape.pixels)} in all; the limit is {megapixels(limits.animation_pixels)}. "
            "Send a shorter or smaller one."
        )
    return shape


def without_metadata(data: bytes, fmt: str) -> bytes:
    """The same frames, timing and loop, and nothing else."""
    return _READERS[fmt].without_metadata(data)
