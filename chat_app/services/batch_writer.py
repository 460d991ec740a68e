"""One writer per process saves every growing reply, and every reply's end, in batches.

However many replies stream, the database sees a few transactions a second: growing text goes
out every half second (a reply's first save marks it `streaming`); if the process dies, a reply
loses at most the text of the last interval. Replies that end are saved together as soon as the
batch before them is written, so a burst of endings is a handful of transactions, not one each;
so are the counts of tokens that come after a reply's text was saved complete.
Every write touches only replies still in flight: a reply ended elsewhere (its worker taken for
gone, a stop from a dead runner's chat) is never overwritten.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import SQLModel

from chat_app.db import session_scope
from chat_app.models import IN_FLIGHT_SQL, MessageStatus, utcnow

log = logging.getLogger(__name__)

SAVE_EVERY = 0.5  # seconds between two saves of the growing replies


@dataclass(frozen=True)
class Ending:
    """A reply's end, as saved: its final text, status, usage and cost."""

    message_id: str
    chat_id: str
    text: str
    status: str
    error: str | None
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None


@dataclass(frozen=True)
class Usage:
    """The tokens and cost of a reply saved complete before the provider counted them."""

    message_id: str
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None


Saved = Ending | Usage


class BatchWriter:
    def __init__(self, every: float = SAVE_EVERY) -> None:
        self._every = every
        # engine (None: the app's own) -> message id -> how to read its text now
        self._dirty: dict[sa.Engine | None, dict[str, Callable[[], str]]] = {}
        self._endings: dict[sa.Engine | None, list[tuple[Saved, asyncio.Future[None]]]] = {}
        self._ending = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._save_forever(), name="batch-writer"),
            loop.create_task(self._save_endings_forever(), name="batch-writer-ends"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await self.save_now()
        await self._save_endings()

    def end(self, ending: Ending, engine: sa.Engine | None = None) -> asyncio.Future[None]:
        """Save a reply's end with the next batch of endings; done once it is written."""
        self.forget(ending.message_id, engine)
        return self._queue(ending, engine)

    def usage(self, usage: Usage, engine: sa.Engine | None = None) -> asyncio.Future[None]:
        """Save the tokens of a reply that ended, with the next batch of endings."""
        return self._queue(usage, engine)

    def _queue(self, saved: Saved, engine: sa.Engine | None) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._endings.setdefault(engine, []).append((saved, done))
        if self._saving_endings():
            self._ending.set()
        else:  # closed, or the loop is closing and cancelled it: nobody else would save this
            loop.create_task(self._save_endings())
        return done

    def _saving_endings(self) -> bool:
        return len(self._tasks) == 2 and not self._tasks[1].done()

    async def _save_endings_forever(self) -> None:
        try:
            while True:
                await self._ending.wait()
                self._ending.clear()
                await self._save_endings()  # what ends meanwhile waits for the next round
        finally:
            # Cancelled with endings waiting (the process stopping, the loop closing): they are
            # saved before this task ends, so whoever awaits it (close) knows they are written.
            if self._endings:
                await self._save_endings()

    async def _save_endings(self) -> None:
        endings, self._endings = self._endings, {}
        for engine, batch in endings.items():
            try:
                await asyncio.to_thread(_save_endings, [e for e, _ in batch], engine)
            except asyncio.CancelledError:
                for _, done in batch:  # their replies stop waiting (the reaper ends such rows)
                    done.cancel()
                raise
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    def changed(self, message_id: str, text: Callable[[], str], engine: sa.Engine | None = None) -> None:
        """The reply's text grew; it is saved with the next batch."""
        self._dirty.setdefault(engine, {})[message_id] = text

    def forget(self, message_id: str, engine: sa.Engine | None = None) -> None:
        self._dirty.get(engine, {}).pop(message_id, None)

    async def _save_forever(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.save_now()
            except Exception:
                log.exception("could not save the growing replies")

    async def save_now(self) -> None:
        dirty, self._dirty = self._dirty, {}
        for engine, texts in dirty.items():
            if texts:
                rows = [{"message_id": uuid.UUID(i), "text": read()} for i, read in texts.items()]
                await asyncio.to_thread(_save, rows, engine)


# Core tables: executemany() takes Core statements.
_MESSAGES = SQLModel.metadata.tables["messages"]
_CHATS = SQLModel.metadata.tables["chat_sessions"]


def _save_endings(saved: list[Saved], engine: sa.Engine | None) -> None:
    endings = [e for e in saved if isinstance(e, Ending)]
    counts = [u for u in saved if isinstance(u, Usage)]
    with session_scope(engine) as session:
        connection = session.connection()
        if endings:
            _save_ends(connection, endings)
        if counts:
            _save_counts(connection, counts)


def _save_ends(connection: sa.Connection, endings: list[Ending]) -> None:
    now = utcnow()
    connection.execute(
        sa.update(_MESSAGES)
        .where(_MESSAGES.c.id == sa.bindparam("message_id"), sa.text(IN_FLIGHT_SQL))
        .values(
            content=sa.bindparam("text"),
            status=sa.bindparam("final_status"),
            error=sa.bindparam("final_error"),
            input_tokens=sa.bindparam("tokens_in"),
            output_tokens=sa.bindparam("tokens_out"),
            cost=sa.bindparam("final_cost"),
            updated_at=now,
        ),
        [
            {
                "message_id": uuid.UUID(e.message_id),
                "text": e.text,
                "final_status": e.status,
                "final_error": e.error,
                "tokens_in": e.input_tokens,
                "tokens_out": e.output_tokens,
                "final_cost": e.cost,
            }
            for e in endings
        ],
    )
    connection.execute(
        sa.update(_CHATS).where(_CHATS.c.id == sa.bindparam("chat")).values(updated_at=now),
        [{"chat": uuid.UUID(c)} for c in {e.chat_id for e in endings}],
    )


def _save_counts(connection: sa.Connection, counts: list[Usage]) -> None:
    """Only a reply still complete is counted: one regenerated meanwhile is counted at its new end.
    Its `updated_at` stays the moment it ended."""
    connection.execute(
        sa.update(_MESSAGES)
        .where(
            _MESSAGES.c.id == sa.bindparam("message_id"),
            _MESSAGES.c.status == MessageStatus.complete.value,
        )
        .values(
            input_tokens=sa.bindparam("tokens_in"),
            output_tokens=sa.bindparam("tokens_out"),
            cost=sa.bindparam("final_cost"),
        ),
        [
            {
                "message_id": uuid.UUID(u.message_id),
                "tokens_in": u.input_tokens,
                "tokens_out": u.output_tokens,
                "final_cost": u.cost,
            }
            for u in counts
        ],
    )


def _save(rows: list[dict], engine: sa.Engine | None) -> None:
    now = utcnow()
    statement = (
        sa.update(_MESSAGES)
        # A literal IN: an expanding IN parameter cannot go into executemany().
        .where(_MESSAGES.c.id == sa.bindparam("message_id"), sa.text(IN_FLIGHT_SQL))
        .values(content=sa.bindparam("text"), status=MessageStatus.streaming.value, updated_at=now)
    )
    with session_scope(engine) as session:
        session.connection().execute(statement, rows)
