"""Where media bytes live. Local disk by default; an object store fits the same interface.

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

    def delete(self, key: str) -> None:
        """Remove a file; a missing one is not an error."""

    def local_path(self, key: str) -> Path | None:
        """A path the web server can send directly (with ranges), or None for remote stores."""


class LocalDiskStorage:
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self._incoming = self.root / ".incoming"

    def new_key(self, extension: str) -> str:
        month = utcnow().strftime("%Y/%m")
        return f"{month}/{uuid.uuid4().hex}.{extension}"

    def staging_file(self):
        self._incoming.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=self._incoming, prefix="up-", delete=True)

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
        new_key = self.new_key(PurePosixPath(key).name.split(".", 1)[1])
        self.put(new_key, self._path(key))
        return new_key

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


@lru_cache(maxsize=4)
def _storage_at(root: str) -> LocalDiskStorage:
    return LocalDiskStorage(root)


def get_storage() -> Storage:
    return _storage_at(get_settings().media_dir)


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
