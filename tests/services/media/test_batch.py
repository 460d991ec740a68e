"""One upload request's files: each judged as it ends, within the request's and the person's limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_app.services import media
from chat_app.services.storage import LocalDiskStorage
from tests.fakes import media_samples as samples

LIMITS = media.Limits(
    image_bytes=2 * 1024 * 1024,
    video_bytes=4 * 1024 * 1024,
    image_pixels=25_000_000,
    animation_pixels=100_000_000,
    animation_frames=1000,
    files_per_upload=10,
    upload_bytes=8 * 1024 * 1024,
    quota_bytes=64 * 1024 * 1024,
)


@pytest.fixture
def storage(tmp_path) -> LocalDiskStorage:
    return LocalDiskStorage(tmp_path / "media")


def _staging(storage: LocalDiskStorage) -> list[Path]:
    incoming = storage.root / ".incoming"
    return list(incoming.iterdir()) if incoming.exists() else []


def _stored(storage: LocalDiskStorage) -> list[Path]:
    return [p for p in storage.root.rglob("*") if p.is_file() and ".incoming" not in p.parts]


async def send(batch: media.UploadBatch, files: list[tuple[str, bytes]], piece: int = 4096) -> int:
    """Feed the files as a face would, piece by piece; returns the most staging files open at once."""
    most_open = 0
    for name, data in files:
        batch.begin(name, None)
        for start in range(0, len(data), piece):
            batch.write(data[start : start + piece])
            most_open = max(most_open, len(_staging(batch.storage)))  # type: ignore[arg-type]
        batch.end()
        await batch.judge()
    await batch.finish()
    return most_open


async def test_each_file_is_judged_as_it_ends_so_one_staging_file_is_open_at_a_time(storage):
    batch = media.UploadBatch(used=0, limits=LIMITS, storage=storage)
    most_open = await send(batch, [(f"p{i}.png", samples.png(200, 150)) for i in range(5)])
    assert most_open == 1
    assert [s.original_name for s in batch.stored] == [f"p{i}.png" for i in range(5)]
    assert batch.refused == [] and _staging(storage) == []


async def test_files_past_the_count_are_refused_in_one_sentence_and_read_through(storage):
    batch = media.UploadBatch(used=0, limits=LIMITS, storage=storage)
    await send(batch, [(f"p{i}.png", samples.png(8, 8)) for i in range(12)])
    assert len(batch.stored) == 10
    assert batch.refused == ["Attach at most 10 files at once: p10.png, p11.png not taken."]
    assert batch.wants_more

    many = media.UploadBatch(used=0, limits=LIMITS, storage=storage)
    await send(many, [(f"p{i}.png", samples.png(8, 8)) for i in range(25)])
    assert many.refused == [
        "Attach at most 10 files at once: p10.png, p11.png, p12.png and 12 more not taken."
    ]


async def test_a_sentence_for_each_refused_file_and_the_others_kept(storage):
    batch = media.UploadBatch(used=0, limits=LIMITS, storage=storage)
    await send(
        batch,
        [("page.png", samples.html_page()), ("ok.png", samples.png()), ("cut.jpg", samples.truncated_jpeg())],
    )
    assert [s.original_name for s in batch.stored] == ["ok.png"]
    assert batch.refused == [
        "page.png: This file is not a supported image or video. Send JPEG, PNG, WebP or GIF images "
        "and MP4, WebM or QuickTime videos.",
        "cut.jpg: This image is damaged or incomplete and could not be read.",
    ]


async def test_past_the_requests_bytes_the_file_is_refused_and_reading_should_stop(storage):
    limits = media.Limits(**{**LIMITS.__dict__, "upload_bytes": 1024 * 1024})
    batch = media.UploadBatch(used=0, limits=limits, storage=storage)
    picture = samples.noise_png()  # 0.6 MB
    batch.begin("a.png", None)
    batch.write(picture)
    batch.begin("b.png", None)
    batch.write(picture)
    assert not batch.wants_more
    await batch.finish()
    assert [s.original_name for s in batch.stored] == ["a.png"]
    assert batch.refused == ["b.png: These files together are more than the 1 MB one upload may carry."]


async def test_empty_parts_count_toward_the_requests_bytes():
    limits = media.Limits(**{**LIMITS.__dict__, "files_per_upload": 10_000, "upload_bytes": 1024 * 1024})
    batch = media.UploadBatch(used=0, limits=limits)
    parts = 0
    while batch.wants_more:
        batch.begin(f"empty-{parts}.png", None)
        batch.end()  # never judged here: nothing stored
        parts += 1
    assert parts == 1024 * 1024 // media.PART_AT_LEAST + 1
    batch.discard()


async def test_a_file_that_would_pass_the_quota_is_refused_while_it_streams(storage):
    picture = samples.noise_png()  # 0.6 MB
    used = LIMITS.quota_bytes - 1024 * 1024  # 1 MB of room left
    batch = media.UploadBatch(used=used, limits=LIMITS, storage=storage)
    batch.begin("big.png", None)
    batch.write(picture)
    batch.begin("second.png", None)
    batch.write(picture[: 500 * 1024])  # the room is gone before this file's end
    assert batch.refused == [
        "second.png: This would take you past your 64 MB of storage (0.4 MB left). "
        "Delete chats you no longer need to make room."
    ]
    batch.write(picture[500 * 1024 :])  # the rest is read and dropped
    batch.begin("small.png", None)
    batch.write(samples.png())  # a small one still fits
    await batch.finish()
    assert [s.original_name for s in batch.stored] == ["big.png", "small.png"]
    assert _staging(storage) == []


async def test_a_failed_request_leaves_nothing_behind(storage):
    batch = media.UploadBatch(used=0, limits=LIMITS, storage=storage)
    batch.begin("a.png", None)
    batch.write(samples.png())
    batch.begin("b.png", None)
    batch.write(samples.png())
    await batch.judge()
    assert len(_stored(storage)) == 2  # a.png and its preview
    batch.discard()
    assert _stored(storage) == [] and _staging(storage) == [] and batch.stored == []


async def test_a_request_gone_while_a_file_is_judged_still_leaves_nothing_behind(storage, monkeypatch):
    import asyncio
    import threading

    batch = media.UploadBatch(used=0, limits=LIMITS, storage=storage)
    batch.begin("clip.mp4", None)
    batch.write(samples.mp4(seconds=2.0))
    batch.end()
    started, go_on = threading.Event(), threading.Event()
    judge = batch._judge_ended

    def judged_when_told() -> None:
        started.set()
        go_on.wait(10)
        judge()

    monkeypatch.setattr(batch, "_judge_ended", judged_when_told)
    judging = asyncio.create_task(batch.judge())
    await asyncio.to_thread(started.wait, 10)  # the thread is judging the video...
    judging.cancel()  # ...when the client goes away
    go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await judging
    batch.discard()
    assert _stored(storage) == [] and _staging(storage) == []
