"""One writer per process saves the text of every growing reply, in one transaction per interval.

However many replies stream, the database sees a few transactions a second; if the process dies,
a reply loses at most the text of the last interval. Its first save marks the reply `streaming`.
A reply's own end is saved by the reply itself (replies._finish), so the writer only ever touches
replies still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from contextlib import suppress

import sqlalchemy as sa

from chat_app.db import session_scope
from chat_app.models import IN_FLIGHT_SQL, Message, MessageStatus, utcnow

log = logging.getLogger(__name__)

SAVE_EVERY = 0.5  # seconds between two saves of the growing replies


class BatchWriter:
    def __init__(self, every: float = SAVE_EVERY) -> None:
        self._every = every
        # engine (None: the app's own) -> message id -> how to read its text now
        self._dirty: dict[sa.Engine | None, dict[str, Callable[[], str]]] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._save_forever(), name="batch-writer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self.save_now()

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
            except Exception:  # noqa: BLE001 - the next interval tries again with newer text
                log.exception("could not save the growing replies")

    async def save_now(self) -> None:
        dirty, self._dirty = self._dirty, {}
        for engine, texts in dirty.items():
            if texts:
                rows = [{"message_id": uuid.UUID(i), "text": read()} for i, read in texts.items()]
                await asyncio.to_thread(_save, rows, engine)


def _save(rows: list[dict], engine: sa.Engine | None) -> None:
    now = utcnow()
    statement = (
        sa.update(Message.__table__)
        # A literal IN: an expanding IN parameter cannot go into executemany().
        .where(Message.__table__.c.id == sa.bindparam("message_id"), sa.text(IN_FLIGHT_SQL))
        .values(content=sa.bindparam("text"), status=MessageStatus.streaming.value, updated_at=now)
    )
    with session_scope(engine) as session:
        session.connection().execute(statement, rows)
