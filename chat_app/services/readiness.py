"""Whether this process can serve: what `/healthz` and `/readyz` answer an orchestrator or a load
balancer, and what a request needing the model catalog is told while it is not loaded yet.

Ready means: the database answers, its schema is at the migrations' head, the shipped catalog is
loaded into it (each worker syncs it as it starts) and, when configured, Redis answers. What has
become true once (the schema, the catalog) is not asked again by this process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from chat_app.catalog import shipped
from chat_app.models import ModelEntry
from chat_app.services.errors import NotReady
from chat_app.services.storage import get_storage
from chat_app.settings import get_settings

OK = "ok"
CATALOG_NOT_LOADED = "The server is starting: its model catalog is not loaded yet. Try again in a moment."

_settled: set[tuple[str, str]] = set()  # (database URL, part) found ready once


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # part -> "ok", or why it is not

    @property
    def ready(self) -> bool:
        return all(state == OK for state in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [part for part, state in self.checks.items() if state != OK]


def check(engine: sa.Engine) -> Readiness:
    """Each part's state; the later parts need the database, so they are not asked without it."""
    checks: dict[str, str] = {}
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            checks["database"] = OK
            checks["migrations"] = _migrations(engine, connection)
        with Session(engine) as session:
            checks["catalog"] = OK if catalog_loaded(session=session) else "not loaded yet"
    except SQLAlchemyError as exc:
        checks.setdefault("database", f"unreachable ({type(exc).__name__})")
    if get_settings().redis_url:
        checks["redis"] = _redis()
    if get_settings().s3_bucket:
        checks["storage"] = _object_storage()
    return Readiness(checks)


def catalog_loaded(*, session: Session) -> bool:
    """Whether the shipped catalog is in the database (one indexed lookup until it is)."""
    key = (str(session.get_bind().engine.url), "catalog")
    if key in _settled:
        return True
    version = shipped()[0]
    found = session.exec(
        select(ModelEntry.id).where(col(ModelEntry.catalog_version) >= version).limit(1)
    ).first()
    if found is not None:
        _settled.add(key)
    return found is not None


def require_catalog(*, session: Session) -> None:
    """A model the catalog lacks is not refused as unknown while the catalog is still loading."""
    if not catalog_loaded(session=session):
        raise NotReady(CATALOG_NOT_LOADED)


def _migrations(engine: sa.Engine, connection: sa.Connection) -> str:
    key = (str(engine.url), "migrations")
    if key in _settled:
        return OK
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(connection).get_current_revision()
    if current != _head():
        return f"at {current or 'none'}, expected {_head()}: run the migrations (make migrate)"
    _settled.add(key)
    return OK


@lru_cache(maxsize=1)
def _head() -> str | None:
    from alembic.script import ScriptDirectory

    from chat_app.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _redis() -> str:
    import redis

    try:
        client = redis.Redis.from_url(get_settings().redis_url, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        return f"unreachable ({type(exc).__name__})"
    return OK


def _object_storage() -> str:
    """The media bucket answers (S3_BUCKET set): a file could not be stored or read without it."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        get_storage().check()
    except (BotoCoreError, ClientError) as exc:
        return f"unreachable ({type(exc).__name__}: {exc})"[:200]
    return OK
