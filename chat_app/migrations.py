"""Apply Alembic migrations from code (used by `make run` and the tests)."""

from __future__ import annotations

import sys

from alembic.config import Config

from alembic import command
from chat_app.settings import PROJECT_ROOT, get_settings, settings_or_exit


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["database_url"] = database_url or get_settings().database_url
    return cfg


def upgrade(database_url: str | None = None) -> None:
    url = database_url or get_settings().database_url
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")


def prepare(database_url: str | None = None) -> int:
    """Migrate the schema, then seed or upgrade the model catalog; returns the catalog's size."""
    from sqlmodel import Session

    from chat_app.db import make_engine
    from chat_app.services.catalog import sync_catalog

    url = database_url or get_settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            count = sync_catalog(session=session, operator_file=get_settings().operator_catalog or None)
            session.commit()
    finally:
        engine.dispose()
    return count


if __name__ == "__main__":
    settings_or_exit()  # a bad value stops here, with a sentence naming it
    count = prepare(sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"Database migrated; {count} models in the catalog.")
