"""Start the real app (`reflex run --env prod --single-port`) in its own process group.

Used by the browser tests and by bench/ scripts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from chat_app.migrations import prepare

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_environment(port: int, database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment for an app on `port`, quiet and offline."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "PUBLIC_URL": f"http://localhost:{port}",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        # bun installed from the npm registry by `make` (Reflex's own installer needs the internet)
        "PATH": f"{ROOT / '.tools' / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        **(extra or {}),
    }


@contextmanager
def running_app(
    env: dict[str, str], port: int, log_path: Path, timeout: float = 300, cwd: Path = ROOT
) -> Iterator[str]:
    """Migrate the database, start the app from `cwd`, wait until it serves pages, stop it afterwards."""
    prepare(env["DATABASE_URL"])
    reflex = str(Path(sys.executable).with_name("reflex"))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [reflex, "run", "--env", "prod", "--single-port",
             "--frontend-port", str(port), "--backend-port", str(port)],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://localhost:{port}"
    try:
        _wait_until_up(url, proc, log_path, timeout)
        yield url
    finally:
        _stop(proc)


def _wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200 and \
                    httpx.get(f"{url}/login", timeout=5, follow_redirects=True).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the app did not come up in {timeout} s:\n{log_path.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
