"""A file that passed: what is known of it once it sits in storage, before it is recorded."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024  # files are read and written in pieces this size, never whole


@dataclass(frozen=True)
class Stored:
    """A file that passed and now sits in storage, not yet recorded."""

    kind: str
    mime_type: str
    byte_size: int
    sha256: str
    storage_key: str
    thumb_key: str | None
    width: int | None
    height: int | None
    duration: float | None
    original_name: str | None


def storage_keys(files: Iterable[Stored]) -> list[str]:
    """Every key these files occupy (file and preview), to remove them when their record fails."""
    return [key for stored in files for key in (stored.storage_key, stored.thumb_key) if key]


def sha256_and_size(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
