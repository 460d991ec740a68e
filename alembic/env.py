"""Alembic environment: the URL comes from the app's settings (DATABASE_URL)."""

from sqlmodel import SQLModel

import chat_app.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from alembic import context
from chat_app import search_index
from chat_app.db import make_engine
from chat_app.settings import settings_or_exit

config = context.config
target_metadata = SQLModel.metadata


def include_name(name, type_, parent_names) -> bool:
    """The search index lives outside the models (chat_app/search_index.py): autogenerate leaves it."""
    return not search_index.is_ours(name)


def _url() -> str:
    return config.attributes.get("database_url") or settings_or_exit().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A batch migration copies a table and drops the old one: with foreign keys on, SQLite
            # would delete every row pointing at it (ON DELETE CASCADE), sessions and chats included.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the transaction the statement began, so Alembic begins its own
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
