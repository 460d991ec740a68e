"""Engine and sessions for services and the API (the same URL Reflex uses)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, create_engine

from chat_app.settings import get_settings

_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_writer_locks: dict[str, threading.RLock] = {}  # one per SQLite file, shared by its engines here


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # ON DELETE rules need foreign keys on; WAL lets readers run beside the writer.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        _queue_writers(engine, _writer_locks.setdefault(url, threading.RLock()))
        return engine
    return create_engine(url, pool_pre_ping=True)


def _queue_writers(engine: sa.Engine, lock: threading.RLock) -> None:
    """SQLite has one writer at a time, and a second one polls for the lock with growing sleeps
    (up to 100 ms each), which under load costs seconds. SQLite serves one process, so its
    write transactions queue on a lock here instead: each starts the moment the last one ends."""

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn, _cursor, statement, _params, _context, _many) -> None:
        if not conn.info.get("writing") and statement.lstrip()[:7].upper().startswith(_DML):
            lock.acquire()
            conn.info["writing"] = True

    def _give(conn) -> None:
        if conn.info.pop("writing", False):
            lock.release()

    event.listen(engine, "commit", _give)
    event.listen(engine, "rollback", _give)


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> sa.Engine:
    return make_engine(url or get_settings().database_url)


@contextmanager
def session_scope(engine: sa.Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def rows_changed(result: sa.Result) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a cursor result)."""
    assert isinstance(result, CursorResult)
    return result.rowcount
