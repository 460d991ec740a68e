"""The deployment files agree with the app: compose.yaml validates and gives every instance
settings the app accepts, the proxy it runs is deploy/nginx.conf (whose instances are compose's),
and the Dockerfile installs, migrates and runs as the Makefile does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from chat_app.settings import SettingsError, load_settings
from tests.support.app_server import ROOT

REQUIRED = {"SECRET_KEY": "a-long-random-secret-for-tests", "MINIO_ROOT_PASSWORD": "minio-secret"}


def _compose_config(**env: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail("docker-compose is not installed: `make install-dev` installs Debian's.")
    clean = {
        k: v for k, v in os.environ.items() if k not in REQUIRED and not k.startswith(("S3_", "PUBLIC_URL"))
    }
    return subprocess.run(
        [tool, "-f", str(ROOT / "compose.yaml"), "config"],
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    rendered = _compose_config(**REQUIRED)
    assert rendered.returncode == 0, rendered.stderr
    return yaml.safe_load(rendered.stdout)


def test_compose_needs_the_secrets_it_cannot_invent():
    rendered = _compose_config(MINIO_ROOT_PASSWORD="x")
    assert rendered.returncode != 0 and "set SECRET_KEY" in rendered.stderr


def test_every_instance_gets_settings_the_app_accepts(compose, monkeypatch):
    instances = [
        name for name, service in compose["services"].items() if service.get("image") == "chat-app:latest"
    ]
    assert len(instances) == 2
    for name in instances:
        service = compose["services"][name]
        env = {k: str(v) for k, v in service["environment"].items()}
        for variable in list(os.environ):
            monkeypatch.delenv(variable)
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        try:
            settings = load_settings()
        except SettingsError as exc:
            pytest.fail(f"{name}: {exc}")
        assert settings.database_url.startswith("postgresql+psycopg://") and settings.redis_url
        assert settings.s3_bucket == "chat-media" and settings.s3_endpoint_url == "http://minio:9000"
        assert settings.granian_workers == 2 and settings.secret_key == REQUIRED["SECRET_KEY"]
        assert "readyz" in " ".join(service["healthcheck"]["test"])
        for dependency in ("postgres", "redis", "bucket"):
            assert dependency in service["depends_on"]


def test_the_proxy_is_deploy_nginx_conf_and_balances_over_the_instances(compose):
    proxy = compose["services"]["proxy"]
    assert any(v.endswith("deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro") for v in proxy["volumes"])
    upstreams = re.findall(r"^\s*server (\w+):3000 ", (ROOT / "deploy" / "nginx.conf").read_text(), re.M)
    assert sorted(upstreams) == ["app1", "app2"] and set(upstreams) <= set(compose["services"])
    assert {"postgres", "redis", "minio"} <= set(compose["services"])
    assert {"postgres", "redis", "minio", "staging"} <= set(compose["volumes"])


def test_the_image_installs_migrates_and_runs_as_the_makefile_does():
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) == 2  # build stage, then a slim run stage
    assert re.search(r"^USER app$", dockerfile, re.M)  # not root
    bun = re.search(r"^BUN_VERSION := (\S+)$", makefile, re.M)
    assert bun and f"bun@{bun.group(1)}" in dockerfile
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "reflex export --frontend-only --no-zip" in dockerfile  # the pages compiled into the image
    assert "python -m chat_app.migrations && exec reflex run --env prod --single-port" in dockerfile
    assert "$(BIN)/python -m chat_app.migrations" in makefile and "reflex run --env prod" in makefile
