"""The SQL statements an engine runs meanwhile, for tests that count reads and writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import event


class Statement(NamedTuple):
    text: str
    params: Any
    many: bool  # run with executemany: `params` holds one set per row


@contextmanager
def statements_run(engine: sa.Engine) -> Iterator[list[Statement]]:
    """Every statement `engine` runs inside the block, in order, as it is sent."""
    seen: list[Statement] = []

    def note(_conn, _cursor, statement, params, _context, executemany) -> None:
        seen.append(Statement(statement, params, executemany))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
