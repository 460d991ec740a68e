"""Where media bytes live: local disk by default, or an S3-compatible object store
(services/object_storage.py) when S3_BUCKET is set.

Keys are made here, never from a user's file name. Finished files are moved in whole
(`put`), so a reader never sees half a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from chat_app.models import utcnow
from chat_app.settings import get_settings


def new_key(extension: str) -> str:
    """A fresh key for a file of this extension: by month, then random."""
    return f"{utcnow().strftime('%Y/%m')}/{uuid.uuid4().hex}.{extension}"


def staging_file_in(folder: Path) -> tempfile._TemporaryFileWrapper:
    """A temporary file in `folder` (made if missing) for bytes not yet judged; deleted on close."""
    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.NamedTemporaryFile(dir=folder, prefix="up-", delete=True)


def extension_of(key: str) -> str:
    return PurePosixPath(key).name.split(".", 1)[1]


class Storage(Protocol):
    def new_key(self, extension: str) -> str: ...

    def staging_file(self) -> tempfile._TemporaryFileWrapper:
        """A temporary file to receive bytes before they are judged; deleted on close."""
        ...

    def put(self, key: str, source: Path) -> None:
        """Take a finished file in under `key`."""

    def copy(self, key: str) -> str:
        """The same bytes under a new key (object stores copy on their side); returns the new key."""
        ...

    def open(self, key: str) -> BinaryIO: ...

    def open_range(self, key: str, start: int, end: int) -> BinaryIO:
        """Bytes `start` to `end` (inclusive) of a file, read as they are asked for."""
        ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None:
        """Remove a file; a missing one is not an error."""

    def local_path(self, key: str) -> Path | None:
        """A path the web server can send directly (with ranges), or None for remote stores."""

    def signed_url(self, key: str, *, seconds: int, mime: str) -> str | None:
        """A link straight to the file, valid `seconds`; None when the store has none."""

    def check(self) -> None:
        """Raise when the store cannot be reached (for the readiness probe)."""


class LocalDiskStorage:
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self._incoming = self.root / ".incoming"

    def new_key(self, extension: str) -> str:
        return new_key(extension)

    def staging_file(self):
        return staging_file_in(self._incoming)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:  # keys are ours, but never trust a string with a path
            raise ValueError(f"storage key outside the media folder: {key!r}")
        return path

    def put(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        try:
            os.link(source, part)  # staging sits on the same disk: no copy of a large video
        except OSError:
            shutil.copyfile(source, part)
        os.replace(part, target)

    def copy(self, key: str) -> str:
        # Stored files never change, so a second name for the same bytes is a full copy.
        copied = new_key(extension_of(key))
        self.put(copied, self._path(key))
        return copied

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def open_range(self, key: str, start: int, end: int) -> BinaryIO:
        f = self._path(key).open("rb")
        f.seek(start)
        return f  # the caller reads end - start + 1 bytes

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def signed_url(self, key: str, *, seconds: int, mime: str) -> str | None:
        return None

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=4)
def _storage_at(root: str) -> LocalDiskStorage:
    return LocalDiskStorage(root)


def get_storage() -> Storage:
    settings = get_settings()
    if settings.s3_bucket:
        from chat_app.services.object_storage import store_for  # boto3 loads only when used

        return store_for(settings)
    return _storage_at(settings.media_dir)


def delete_files(keys: Iterable[str], storage: Storage | None = None) -> None:
    """Remove these files now: stored, but their record was not (or will never be) saved."""
    storage = storage or get_storage()
    for key in keys:
        storage.delete(key)


@contextmanager
def files_deleted_on_error(
    keys: Iterable[str], *, storage: Storage | None = None, on: type[BaseException] = Exception
) -> Iterator[None]:
    """If the block fails, delete the files at `keys` and let the failure go on, so no file stays
    behind without its record. `keys` is read only then: a list the block fills as it writes is covered.

    `on` is Exception by default: a block awaiting a save that runs in a thread must keep the files
    when only the waiting is cancelled (the save may still commit). A block that writes the files
    itself passes BaseException, so a stop removes them too.
    """
    try:
        yield
    except on:
        delete_files(keys, storage)
        raise
