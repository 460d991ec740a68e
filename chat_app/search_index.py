"""The full-text index of messages, which lives beside the models rather than in them: an
expression GIN index on PostgreSQL, an FTS5 table kept by triggers on SQLite. Both hold only
messages that are no longer being written, so a streaming reply's saves cost the index nothing.

Made by migration 0010. A later migration that rebuilds `messages` on SQLite (Alembic's batch
mode copies the table) must call `create_sqlite` again: the triggers go with the old table.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

FINISHED_SQL = "status NOT IN ('pending', 'streaming')"
POSTGRES_INDEX = "ix_messages_search"
POSTGRES_DOCUMENT = "to_tsvector('simple', content)"
SQLITE_TABLE = "messages_fts"


def is_ours(name: str | None) -> bool:
    """Whether a schema object belongs to the index (so schema comparisons leave it out)."""
    return bool(name) and (name == POSTGRES_INDEX or str(name).startswith(SQLITE_TABLE))


def create(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f"CREATE INDEX {POSTGRES_INDEX} ON messages USING GIN ({POSTGRES_DOCUMENT}) WHERE {FINISHED_SQL}"
        )
    else:
        create_sqlite(connection)


def create_sqlite(connection: Connection) -> None:
    """The FTS5 table over `messages.content` (by rowid), its triggers, and the finished messages."""
    old_finished = FINISHED_SQL.replace("status", "old.status")
    new_finished = FINISHED_SQL.replace("status", "new.status")
    table = SQLITE_TABLE
    forget_old = f"INSERT INTO {table}({table}, rowid, content) SELECT 'delete', old.rowid, old.content WHERE {old_finished};"
    index_new = f"INSERT INTO {table}(rowid, content) SELECT new.rowid, new.content WHERE {new_finished};"
    for statement in (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
        "content, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {table}_insert AFTER INSERT ON messages BEGIN {index_new} END",
        f"CREATE TRIGGER {table}_delete AFTER DELETE ON messages BEGIN {forget_old} END",
        # One trigger, the old entry out before the new one in (SQLite's order among triggers is
        # not the order they were made in).
        f"CREATE TRIGGER {table}_update AFTER UPDATE OF content, status ON messages BEGIN {forget_old} {index_new} END",
        f"INSERT INTO {table}({table}) VALUES ('delete-all')",  # (made again: whatever it held goes)
        f"INSERT INTO {table}(rowid, content) SELECT rowid, content FROM messages WHERE {FINISHED_SQL}",
    ):
        connection.exec_driver_sql(statement)


def drop(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {POSTGRES_INDEX}")
        return
    for suffix in ("insert", "delete", "update"):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {SQLITE_TABLE}_{suffix}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SQLITE_TABLE}")
