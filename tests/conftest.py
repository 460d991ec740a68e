"""Shared fixtures: a migrated database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
the app pointed at it, and the local fakes of remote services. Helpers live in tests/support/."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from chat_app.db import make_engine
from chat_app.migrations import prepare
from chat_app.services import accounts
from tests.fakes.providers import FakeProviders
from tests.fakes.replicate import FakeReplicate
from tests.fakes.smtp import FakeSmtp
from tests.support.catalog import catalog_versions
from tests.support.databases import postgres_schema

if TYPE_CHECKING:
    from starlette.testclient import TestClient

_BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=_BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        with postgres_schema(os.environ["TEST_DATABASE_URL"]) as url:
            yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database migrated and seeded once a run; a test that wants one ready starts from
    a copy (tests/test_migrations.py runs the migrations themselves on empty databases)."""
    path = tmp_path_factory.mktemp("template") / "ready.db"
    prepare(f"sqlite:///{path}")
    return path


def _prepare(database_url: str, template: Path) -> None:
    """The schema from the migrations, the catalog from its file: copied from the template for
    SQLite (SQLite's own backup, whole whatever its journal holds), then brought up to date."""
    if database_url.startswith("sqlite:///"):
        target = Path(database_url.removeprefix("sqlite:///"))
        if not target.exists():
            with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(target)) as copy:
                source.backup(copy)
    prepare(database_url)


@pytest.fixture
def engine(database_url, sqlite_template) -> Iterator[sa.Engine]:
    _prepare(database_url, sqlite_template)
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def provider_env(monkeypatch):
    """Configure one provider (OpenAI) so text models are usable in service tests."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")


# The local fakes of remote services: one server per protocol for the whole run (`*_server`, which
# the browser tests' app processes are pointed at), seen by each test with nothing recorded by
# earlier tests (`fake_*`), or with the app configured to use it (`*_env`).


@pytest.fixture(scope="session")
def provider_server() -> Iterator[FakeProviders]:
    """The LLM providers (OpenAI-compatible, Anthropic, Gemini, Ollama) on one local server."""
    with FakeProviders() as server:
        yield server


@pytest.fixture
def fake_providers(provider_server) -> FakeProviders:
    provider_server.clear()
    return provider_server


@pytest.fixture
def fake_env(fake_providers, monkeypatch) -> FakeProviders:
    """Every provider pointed at the local fakes, through LiteLLM's standard variables."""
    for name, value in fake_providers.env().items():
        monkeypatch.setenv(name, value)
    return fake_providers


@pytest.fixture
def app_settings(database_url, sqlite_template, monkeypatch, tmp_path):
    """Point the app's settings and engine at this test's migrated database (and its own media folder)."""
    from chat_app import db, settings

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("SECRET_KEY", "unit-test-secret")
    monkeypatch.setenv("PUBLIC_URL", "http://testserver")
    # The fake providers serve generation outputs from 127.0.0.1 (tests/attacks turn this off).
    monkeypatch.setenv("OUTBOUND_PRIVATE_ADDRESSES_ALLOWED", "true")
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    _prepare(database_url, sqlite_template)
    yield settings.get_settings()
    db.get_engine().dispose()
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture
def api(app_settings):
    from starlette.testclient import TestClient

    from chat_app.api.app import make_api

    with TestClient(make_api(), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def served_api(app_settings) -> Iterator[str]:
    """The API on a real local port (uvicorn in a thread, with the app's lifespan), for clients
    that open their own connections (OpenAI's, LiteLLM's); its address."""
    from chat_app.api.app import make_api
    from tests.fakes.server import BackgroundServer

    with BackgroundServer(make_api(), name="api", lifespan="on") as server:
        yield server.url


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2 with tiny parameters in unit tests: the same code path, a fraction of the time."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture(autouse=True)
def titles_off(monkeypatch) -> None:
    """A chat keeps its first words as its title: a title call would be one more provider request
    in every test that counts them. Tests of titles set TITLE_MODEL (`configure`)."""
    from chat_app import settings

    monkeypatch.setenv("TITLE_MODEL", "off")
    settings.get_settings.cache_clear()


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    """Every test starts with no rate limit used (the counters of this process are forgotten)."""
    from chat_app.services import limits

    limits.reset()
    yield
    limits.reset()


def pytest_collection_modifyitems(config, items):
    """Browser tests are marked e2e (`-m "not e2e"` leaves them out) and run last: Playwright's
    sync API keeps an event loop running in this thread once started, which the async tests
    before them must not meet."""
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: "/e2e/" in str(item.path))


@pytest.fixture(scope="session")
def replicate_server() -> Iterator[FakeReplicate]:
    """Replicate's API, knowing the catalog's version-pinned models."""
    with FakeReplicate(versions=catalog_versions()) as server:
        yield server


@pytest.fixture
def fake_replicate(replicate_server) -> FakeReplicate:
    replicate_server.clear()
    return replicate_server


@pytest.fixture
def replicate_env(fake_replicate, app_settings, monkeypatch) -> Iterator[FakeReplicate]:
    """Replicate pointed at the local fake, with quick generations polled quickly."""
    from chat_app import settings

    for name, value in fake_replicate.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GENERATION_POLL_INTERVAL", "0.1")
    settings.get_settings.cache_clear()
    with fake_replicate.paced(start_delay=0.2, duration=0.8):
        yield fake_replicate


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis (TEST_REDIS_URL, or the local one); its absence fails the test, never skips it."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {url} ({exc}); start it as the README says.")
    yield url
    client.close()


@pytest.fixture
def redis_prefix(redis_url) -> Iterator[str]:
    """A key namespace of this test's own, removed afterwards."""
    import redis

    prefix = f"test-{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider on 127.0.0.1 (PyPI's oidc-provider-mock)."""
    import sys
    from pathlib import Path

    from tests.support.app_server import free_port, serving_process

    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    exe = str(Path(sys.executable).with_name("oidc-provider-mock"))
    with serving_process([exe, "-p", str(port)], f"{issuer}/.well-known/openid-configuration"):
        yield issuer


@pytest.fixture
def sso(oidc_provider, app_settings, monkeypatch) -> Iterator[TestClient]:
    """The API with the local OpenID Connect provider configured as `oidc` (read when it is built)."""
    from starlette.testclient import TestClient

    from chat_app import settings
    from chat_app.api.app import make_api

    monkeypatch.setenv("OIDC_CLIENT_ID", "chat-app-tests")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "chat-app-tests-secret")
    monkeypatch.setenv("OIDC_DISCOVERY_URL", f"{oidc_provider}/.well-known/openid-configuration")
    settings.get_settings.cache_clear()
    with TestClient(make_api(), base_url="http://testserver") as client:
        yield client


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[FakeSmtp]:
    """An SMTP server keeping what it receives."""
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def fake_smtp(smtp_server) -> FakeSmtp:
    smtp_server.inbox.clear()
    return smtp_server


@pytest.fixture
def smtp_env(fake_smtp, app_settings, monkeypatch) -> FakeSmtp:
    """Email goes to the local SMTP server."""
    from chat_app import settings

    for name, value in fake_smtp.env().items():
        monkeypatch.setenv(name, value)
    settings.get_settings.cache_clear()
    return fake_smtp


@pytest.fixture
def configure(monkeypatch):
    """`configure(MONTHLY_SPEND_PER_PERSON="1")`: the app's variables for the rest of the test,
    its settings read afresh (and again after it)."""
    from chat_app import settings

    def set_variables(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        settings.get_settings.cache_clear()

    yield set_variables
    settings.get_settings.cache_clear()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A local S3-compatible server for the whole run (each test makes its own bucket)."""
    from tests.support.object_store import running_s3

    with running_s3(tmp_path_factory.mktemp("s3") / "moto.log") as server:
        yield server


@pytest.fixture
def s3_media(s3_server, configure):
    """The app's media in a fresh bucket of the local S3 server; returns (server, bucket)."""
    bucket = s3_server.new_bucket()
    configure(**s3_server.env(bucket))
    return s3_server, bucket
