"""Animations: bounded from their headers before any frame is decoded, kept moving, metadata left out."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image

from chat_app.services import media
from chat_app.services.errors import Invalid
from chat_app.services.media import gif
from chat_app.services.media.outline import Outline
from chat_app.services.storage import LocalDiskStorage
from tests.fakes import media_samples as samples

LIMITS = media.Limits(
    image_bytes=20 * 1024 * 1024,
    video_bytes=4 * 1024 * 1024,
    image_pixels=25_000_000,
    animation_pixels=100_000_000,
    animation_frames=1000,
)


@pytest.fixture
def storage(tmp_path) -> LocalDiskStorage:
    return LocalDiskStorage(tmp_path / "media")


def _files_in(storage: LocalDiskStorage) -> list[Path]:
    return [p for p in storage.root.rglob("*") if p.is_file()]


def ingest(data: bytes, storage, limits: media.Limits = LIMITS) -> media.Stored:
    intake = media.Intake("moving.bin", None, limits=limits, storage=storage)
    intake.write(data)
    return intake.finish()


def _frames(data: bytes) -> list[bytes]:
    with Image.open(io.BytesIO(data)) as image:
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(image.convert("RGBA").tobytes())
        return frames


@pytest.mark.parametrize(
    ("make", "fmt"),
    [(samples.gif_with_metadata, "GIF"), (samples.animated_png, "PNG"), (samples.animated_webp, "WEBP")],
    ids=["gif", "apng", "webp"],
)
def test_animations_keep_every_frame_as_it_was_and_lose_their_metadata(storage, make, fmt):
    original = make()
    assert samples.SECRET_PLACE in original and samples.SECRET_DEVICE in original
    stored = ingest(original, storage)
    kept = storage.local_path(stored.storage_key).read_bytes()
    assert samples.SECRET_PLACE not in kept and samples.SECRET_DEVICE not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert (image.format, image.n_frames) == (fmt, 3)
        assert not {"comment", "exif", "xmp", "Location", "Device"} & set(image.info)
        assert not image.getexif()
    assert _frames(kept) == _frames(original)  # copied, not re-encoded: not one pixel changed
    assert (stored.width, stored.height) == (32, 24) and stored.thumb_key is not None
    assert stored.byte_size == len(kept)


def test_a_gif_bomb_is_refused_from_its_headers_in_a_moment(storage):
    bomb = samples.gif_bomb(frames=60, side=1500)
    started = time.monotonic()
    with pytest.raises(Invalid) as refused:
        ingest(bomb, storage)
    assert time.monotonic() - started < 1.0
    assert str(refused.value) == (
        "This animation is 60 frames of 1,500×1,500 pixels, 135 million pixels in all; "
        "the limit is 100 million pixels. Send a shorter or smaller one."
    )
    assert _files_in(storage) == []


def test_a_gif_of_countless_tiny_frames_is_refused_without_walking_them_all(storage):
    flood = samples.gif_of_many_frames(200_000)  # counting every frame takes seconds
    started = time.monotonic()
    with pytest.raises(Invalid, match="more than 1,000 frames"):
        ingest(flood, storage)
    assert time.monotonic() - started < 0.5
    assert _files_in(storage) == []


def test_the_bounds_are_the_limits_given(storage):
    three_frames = samples.gif(frames=3)
    with pytest.raises(Invalid, match="more than 2 frames"):
        ingest(three_frames, storage, media.Limits(image_bytes=LIMITS.image_bytes, animation_frames=2))
    with pytest.raises(Invalid, match="3 frames of 32×24 pixels"):
        ingest(three_frames, storage, media.Limits(image_bytes=LIMITS.image_bytes, animation_pixels=2000))
    assert ingest(three_frames, storage, media.Limits(animation_frames=3, animation_pixels=3 * 32 * 24))


def test_a_frame_reaching_out_of_the_canvas_counts_where_it_reaches():
    data = bytearray(samples.gif(frames=2, width=32, height=24))
    data[6:10] = b"\x01\x00\x01\x00"  # the screen says 1x1; the frames still draw 32x24
    assert gif.outline(bytes(data), stop_after=10) == Outline(2, 32, 24)


def test_a_gif_cut_inside_a_frame_is_refused_as_damaged(storage):
    whole = samples.gif(frames=3, width=64, height=48)
    with pytest.raises(Invalid, match="damaged or incomplete"):
        ingest(whole[: len(whole) * 2 // 3], storage)
    assert _files_in(storage) == []
