"""Probes for an orchestrator or a load balancer: alive, and ready only when every part is; a
request needing the catalog before it is loaded is told to come back, not that the model is unknown."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlmodel import Session

from alembic import command
from chat_app.db import make_engine, session_scope
from chat_app.migrations import alembic_config
from chat_app.models import ModelEntry
from chat_app.services import readiness
from chat_app.services.catalog import sync_configured_catalog
from tests.support.app_server import free_port
from tests.support.factories import api_user


def test_alive_and_ready_without_a_session(api):
    assert api.get("/healthz").json() == {"status": "alive"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "catalog": "ok"},
        "failing": [],
    }


def test_a_database_behind_the_migrations_is_not_ready(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0008")
    engine = make_engine(url)
    try:
        state = readiness.check(engine)
    finally:
        engine.dispose()
    assert not state.ready and state.failing == ["migrations", "catalog"]
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert state.checks["migrations"].startswith(f"at 0008, expected {head}: run the migrations")


def test_an_unreachable_database_or_redis_is_named(configure, tmp_path):
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    engine = sa.create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    try:
        state = readiness.check(engine)
    finally:
        engine.dispose()
    assert state.failing == ["database", "redis"]
    assert state.checks["database"].startswith("unreachable") and state.checks["redis"].startswith(
        "unreachable"
    )


def test_before_the_catalog_is_loaded_a_chat_is_refused_as_not_ready_not_unknown(api):
    api_user(api)
    with session_scope() as session:  # as on a first start, before this worker's sync
        session.execute(sa.delete(ModelEntry))
    answer = api.post("/api/chats", json={"model_id": "openai/gpt-4o"})
    assert answer.status_code == 503 and answer.json()["code"] == "not_ready"
    assert answer.json()["error"] == readiness.CATALOG_NOT_LOADED and answer.headers["Retry-After"] == "5"
    probe = api.get("/readyz")
    assert probe.status_code == 503 and probe.json()["failing"] == ["catalog"]
    sync_configured_catalog()  # the worker's start-up sync
    assert api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).status_code == 201
    assert api.get("/readyz").status_code == 200


def test_a_model_not_in_a_loaded_catalog_is_still_unknown(api, engine):
    api_user(api)
    answer = api.post("/api/chats", json={"model_id": "nobody/no-such-model"})
    assert answer.status_code == 400 and answer.json()["error"] == "That model is not in the catalog."
    with Session(engine) as session:
        assert readiness.catalog_loaded(session=session)


def test_a_page_learns_whether_its_address_may_reach_the_server(api):
    allowed = api.get("/api/page-address", params={"origin": "http://testserver"}).json()
    assert allowed == {"allowed": True, "public_url": "http://testserver"}
    elsewhere = api.get("/api/page-address", params={"origin": "http://127.0.0.2:3000"}).json()
    assert elsewhere == {"allowed": False, "public_url": "http://testserver"}
