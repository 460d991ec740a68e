"""Two app instances sharing one PostgreSQL schema and one Redis, as two machines would."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.app_server import AppProcess, app_environment, free_port, isolated_copy, running_apps


def postgres_base() -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.fail("Several instances share PostgreSQL: set TEST_DATABASE_URL (see the README).")
    return base


@contextmanager
def two_instances(
    provider_server,
    replicate_server,
    database: str,
    tmp_path_factory,
    *,
    workers: str,
    extra: dict[str, str],
    one_build: bool = False,
) -> Iterator[list[AppProcess]]:
    """Each from its own copy of the project, started at once; or (`one_build`) both from one
    copy, one after the other, so they serve the same compiled pages, as instances of one release
    do (each build names its script files anew, and a balancer may ask either for any of them)."""
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    specs = []
    for name in ("a", "b"):
        root = tmp_path_factory.mktemp(f"instance-{name}")
        port = free_port()
        env = app_environment(
            port,
            database,
            {
                **provider_server.env(),
                **replicate_server.env(),
                "REDIS_URL": redis_url,
                "REDIS_KEY_PREFIX": prefix,
                "GRANIAN_WORKERS": workers,
                "LLM_FIRST_TOKEN_TIMEOUT": "8",
                "LLM_CHUNK_GAP_TIMEOUT": "4",
                "LLM_TOTAL_TIMEOUT": "60",
                "GENERATION_POLL_INTERVAL": "0.3",
                "MEDIA_DIR": str(root.parent / "shared-media"),  # one store for both, as a shared volume
                **extra,
            },
        )
        project = specs[0][3] if one_build and specs else isolated_copy(root / "project")
        specs.append((env, port, root / "app.log", project))
    if not one_build:
        with running_apps(*specs) as apps:
            yield apps
        return
    with running_apps(specs[0]) as first, running_apps(specs[1]) as second:  # the second rebuilds the same
        yield first + second
