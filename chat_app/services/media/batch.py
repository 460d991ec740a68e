"""One upload request's files, received one after another within the request's and the person's limits.

Both faces feed it: the HTTP upload route from its multipart parser, the attach button from
Reflex's streamed chunks. Each file is judged (cleaned and stored) as soon as the next begins or
the request ends, so one staging file is open at a time, however many parts a request holds.
The limits are met as the bytes arrive: past the number of files, the request's bytes or the
person's storage, a file is refused with a sentence, and its bytes are read and dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from chat_app.services import metrics
from chat_app.services.errors import Invalid
from chat_app.services.media.bounds import Limits, past_quota, past_upload_bytes
from chat_app.services.media.intake import Intake
from chat_app.services.media.stored import Stored, storage_keys
from chat_app.services.storage import Storage, delete_files, get_storage

# Each file part counts this much toward the request's bytes on top of its own, so a flood of
# empty parts is cut off like a flood of bytes (its headers alone are a hundred bytes or so).
PART_AT_LEAST = 64 * 1024
NAMED_AT_MOST = 3  # files past the count are named up to this many, then counted


@dataclass
class _Refused:
    name: str
    reason: str


class UploadBatch:
    """`begin`, `write` and `end` never block; `judge` and `finish` judge files (seconds for a
    video) in a thread, off the event loop."""

    def __init__(self, *, used: int, limits: Limits | None = None, storage: Storage | None = None):
        self.used = used  # what the person's files took in storage when the request began
        self.limits = limits or Limits()
        self.storage = storage or get_storage()
        self.stored: list[Stored] = []
        self.received = 0  # this request's file bytes so far, and PART_AT_LEAST for each file
        self._current: tuple[str, Intake] | None = None
        self._ended: list[tuple[str, Intake]] = []
        self._refused: list[_Refused] = []
        self._begun = 0
        self._past_count = 0  # files past the number one request may carry
        self._past_count_names: list[str] = []  # the first few of them

    @property
    def wants_more(self) -> bool:
        """False once the request carried more than it may: stop reading it."""
        return self.received <= self.limits.upload_bytes

    @property
    def refused(self) -> list[str]:
        """A sentence per refused file (files past the count share one)."""
        sentences = [f"{r.name}: {r.reason}" for r in self._refused]
        if self._past_count:
            named = ", ".join(self._past_count_names)
            more = self._past_count - len(self._past_count_names)
            if more > 0:
                named += f" and {more:,} more"
            sentences.append(
                f"Attach at most {self.limits.files_per_upload} files at once: {named} not taken."
            )
        return sentences

    @property
    def written(self) -> list[str]:
        """The storage keys of the files stored so far (to remove if the request fails)."""
        return storage_keys(self.stored)

    def begin(self, name: str | None, declared_type: str | None) -> None:
        """A new file begins; the one before it (if any) has ended."""
        self.end()
        label = name or "file"
        self._begun += 1
        self.received += PART_AT_LEAST
        if self._begun > self.limits.files_per_upload:
            self._past_count += 1
            if len(self._past_count_names) < NAMED_AT_MOST:
                self._past_count_names.append(label)
            return
        try:
            if not self.wants_more:
                raise Invalid(past_upload_bytes(self.limits))
            self._current = (label, Intake(name, declared_type, limits=self.limits, storage=self.storage))
        except Invalid as exc:
            self._refuse_named(label, str(exc))

    def write(self, data: bytes) -> None:
        """More of the current file; a refused file's bytes are only counted."""
        self.received += len(data)
        if self._current is None:
            return
        name, intake = self._current
        try:
            if not self.wants_more:
                raise Invalid(past_upload_bytes(self.limits))
            if self._taken() + intake.size + len(data) > self.limits.quota_bytes:
                raise Invalid(past_quota(self._taken(), self.limits))
            intake.write(data)
        except Invalid as exc:
            self._refuse(name, intake, exc)

    def end(self) -> None:
        """The current file is complete: it waits for `judge`."""
        if self._current is not None:
            self._ended.append(self._current)
            self._current = None

    async def judge(self) -> None:
        """Judge and store the files that ended; each staging file is closed as it is judged."""
        await _in_thread(self._judge_ended)

    async def finish(self) -> None:
        """The request ended: judge its last file."""
        self.end()
        await self.judge()

    def _judge_ended(self) -> None:
        while self._ended:
            name, intake = self._ended.pop(0)
            try:
                stored = intake.finish()
            except Invalid as exc:
                self._refuse_named(name, str(exc))
                continue
            if self._taken() + stored.byte_size > self.limits.quota_bytes:  # cleaning made it larger
                delete_files(storage_keys([stored]), self.storage)
                self._refuse_named(name, past_quota(self._taken(), self.limits))
                continue
            self.stored.append(stored)
            metrics.UPLOADS.labels(stored.kind, "passed").inc()

    def discard(self) -> None:
        """The request failed: close every staging file and remove what was stored."""
        for _name, intake in [*self._ended, *([self._current] if self._current else [])]:
            intake.discard()
        self._ended, self._current = [], None
        delete_files(self.written, self.storage)
        self.stored = []

    def _taken(self) -> int:
        """What the person's files take with this request's stored so far and those waiting."""
        return self.used + sum(s.byte_size for s in self.stored) + sum(i.size for _n, i in self._ended)

    def _refuse(self, name: str, intake: Intake, exc: Invalid) -> None:
        intake.discard()
        self._current = None
        self._refuse_named(name, str(exc))

    def _refuse_named(self, name: str, sentence: str) -> None:
        self._refused.append(_Refused(name, sentence))
        metrics.UPLOADS.labels("unknown", "refused").inc()


async def _in_thread(work: Callable[[], None]) -> None:
    """Blocking work in a thread. A caller cancelled meanwhile (the client went away) still waits
    for it to end, so every file it stored is known to `discard`, which the caller runs next."""
    job = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        await asyncio.shield(job)
    except asyncio.CancelledError:
        await asyncio.wait([job])
        raise
