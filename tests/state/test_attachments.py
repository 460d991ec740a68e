"""The attach button's streamed upload: files judged as each ends, at most the limit taken."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from chat_app import settings
from chat_app.services import media
from chat_app.state.attachments import receive
from tests.fakes import media_samples as samples


@dataclass(frozen=True)
class Chunk:
    """A piece of one file, as Reflex's streamed upload hands it over."""

    filename: str
    offset: int
    content_type: str
    data: bytes


class Upload:
    """Files streamed as Reflex streams them, noting how far they were read and what sat in staging."""

    def __init__(self, files: list[tuple[str, bytes]], staging: Path, piece: int = 64 * 1024):
        self.files, self.staging, self.piece = files, staging, piece
        self.read = 0  # files begun
        self.most_open = 0

    async def chunks(self) -> AsyncIterator[Chunk]:
        for name, data in self.files:
            self.read += 1
            for offset in range(0, max(len(data), 1), self.piece):
                held = len(list(self.staging.glob("up-*"))) if self.staging.exists() else 0
                self.most_open = max(self.most_open, held)
                yield Chunk(name, offset, "image/png", data[offset : offset + self.piece])


async def test_the_attach_button_takes_at_most_the_limit_and_reads_the_rest_through(app_settings):
    upload = Upload(
        [(f"dot-{i}.png", samples.png(2, 2)) for i in range(2000)], Path(app_settings.media_dir) / ".incoming"
    )
    batch = media.UploadBatch(used=0)
    await receive(upload.chunks(), batch)
    assert len(batch.stored) == 10
    assert batch.refused == [
        "Attach at most 10 files at once: dot-10.png, dot-11.png, dot-12.png and 1,987 more not taken."
    ]
    assert upload.read == 2000  # read through: the browser's upload ends as usual
    assert upload.most_open <= 1  # each file closed as the next began


async def test_the_attach_button_stops_reading_past_the_bytes_one_upload_may_carry(app_settings, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_MB", "1")
    settings.get_settings.cache_clear()
    files = [(f"noise-{i}.png", samples.noise_png()) for i in range(10)]  # 0.6 MB each
    upload = Upload(files, Path(app_settings.media_dir) / ".incoming")
    batch = media.UploadBatch(used=0)
    await receive(upload.chunks(), batch)
    assert [s.original_name for s in batch.stored] == ["noise-0.png"]
    assert batch.refused == ["noise-1.png: These files together are more than the 1 MB one upload may carry."]
    assert upload.read == 2  # not one more
