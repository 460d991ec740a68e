"""Stored files: removed when the block that should have recorded them fails."""

from __future__ import annotations

import asyncio

import pytest

from chat_app.services.storage import LocalDiskStorage, files_deleted_on_error


@pytest.fixture
def storage(tmp_path) -> LocalDiskStorage:
    return LocalDiskStorage(tmp_path / "media")


def _write(storage: LocalDiskStorage, tmp_path, name: str) -> str:
    source = tmp_path / name
    source.write_bytes(b"bytes of " + name.encode())
    key = storage.new_key("bin")
    storage.put(key, source)
    return key


def test_files_written_in_a_failed_block_are_deleted_and_the_failure_goes_on(storage, tmp_path):
    written: list[str] = []
    with pytest.raises(RuntimeError, match="record failed"), files_deleted_on_error(written, storage=storage):
        written.append(_write(storage, tmp_path, "a"))  # keys added as the block goes are covered
        written.append(_write(storage, tmp_path, "b"))
        raise RuntimeError("record failed")
    assert written and all(not storage.local_path(key).exists() for key in written)


def test_files_are_kept_when_the_block_succeeds(storage, tmp_path):
    key = _write(storage, tmp_path, "a")
    with files_deleted_on_error([key], storage=storage):
        pass
    assert storage.local_path(key).exists()


def test_a_cancel_deletes_only_when_asked_to(storage, tmp_path):
    awaited, own = _write(storage, tmp_path, "awaited"), _write(storage, tmp_path, "own")
    with pytest.raises(asyncio.CancelledError), files_deleted_on_error([awaited], storage=storage):
        raise asyncio.CancelledError  # a save still running elsewhere may yet record this file
    with (
        pytest.raises(asyncio.CancelledError),
        files_deleted_on_error([own], storage=storage, on=BaseException),
    ):
        raise asyncio.CancelledError
    assert storage.local_path(awaited).exists() and not storage.local_path(own).exists()
