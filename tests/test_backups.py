"""The README's backup recipes, run: a copy of the database taken while the app holds it opens at
the current schema with every row (SQLite's backup; PostgreSQL's pg_dump and pg_restore)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from chat_app.db import make_engine
from chat_app.migrations import prepare
from chat_app.models import Chat, Message
from tests.support.factories import api_user
from tests.support.waiting import chat_in_flight, wait_for_reply


def _a_chat(api) -> str:
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    assert (
        api.post(f"/api/chats/{chat_id}/messages", json={"content": "keep me [[tokens=2]]"}).status_code
        == 202
    )
    wait_for_reply(chat_in_flight(api, chat_id))
    return chat_id


def _contents(url: str, chat_id: str) -> list[str]:
    prepare(url)  # a restored backup is brought to the current schema (here: already there)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            assert session.get(Chat, uuid.UUID(chat_id)) is not None
            rows = session.exec(
                select(Message).where(Message.chat_id == uuid.UUID(chat_id)).order_by(Message.seq)
            )
            return [m.content for m in rows]
    finally:
        engine.dispose()


def _libpq(url: str) -> str:
    """The app's URL as pg_dump and pg_restore take it: without SQLAlchemy's driver name."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_a_backup_taken_while_the_app_runs_restores_every_row(api, fake_env, database_url, tmp_path):
    chat_id = _a_chat(api)
    if database_url.startswith("sqlite:///"):
        live, copy = database_url.removeprefix("sqlite:///"), tmp_path / "copy.db"
        recipe = f"import sqlite3; sqlite3.connect({live!r}).backup(sqlite3.connect({str(copy)!r}))"
        subprocess.run([sys.executable, "-c", recipe], check=True)
        assert _contents(f"sqlite:///{copy}", chat_id) == ["keep me [[tokens=2]]", "tok1 tok2"]
        return
    schema = database_url.rsplit("search_path%3D", 1)[1]
    dump = tmp_path / "chat_app.dump"
    with dump.open("wb") as out:
        subprocess.run(["pg_dump", "-Fc", "-n", schema, _libpq(database_url)], stdout=out, check=True)
    base = os.environ["TEST_DATABASE_URL"]
    restored_db = f"restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{restored_db}"'))
        restored = database_url.replace(base.rsplit("/", 1)[1] + "?", restored_db + "?", 1)
        assert restored != database_url
        subprocess.run(
            ["pg_restore", "--no-owner", "-d", _libpq(restored).split("?")[0], str(dump)], check=True
        )
        assert _contents(restored, chat_id) == ["keep me [[tokens=2]]", "tok1 tok2"]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{restored_db}" WITH (FORCE)'))
        admin.dispose()


def test_the_readme_gives_these_recipes():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "sqlite3.connect('data/chat_app.db').backup(sqlite3.connect('copy.db'))" in readme
    assert "pg_dump -Fc" in readme and "pg_restore --no-owner -d" in readme
