"""Start the real app (`reflex run --env prod --single-port`) in its own process group.

Used by the browser tests and by bench/ scripts.
"""

from __future__ import annotations

import os
import shutil
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
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
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
        "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": "true",  # the fake providers serve outputs from 127.0.0.1
        "TITLE_MODEL": "off",  # a chat keeps its first words, unless a test asks for titles
        # bun installed from the npm registry by `make` (Reflex's own installer needs the internet)
        "PATH": f"{ROOT / '.tools' / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        **(extra or {}),
    }


@contextmanager
def serving_process(
    argv: list[str], ready_url: str, *, log_path: Path | None = None, timeout: float = 30
) -> Iterator[subprocess.Popen]:
    """A helper server (a fake provider, an OpenID Connect provider) in its own process group,
    ready once `ready_url` answers 200; stopped afterwards, even on failure."""
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{Path(argv[0]).name} {' '.join(argv[1:])} did not start")
            time.sleep(0.1)
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        if log_path:
            log.close()


def isolated_copy(dest: Path) -> Path:
    """A private copy of the project to run an app from.

    `reflex run` compiles into the project's .web/ (including the websocket URL with its port),
    so another app started from the same checkout meanwhile would rebuild the frontend under
    this one. The copy shares only the installed node_modules (read-only here).
    """
    for name in ("chat_app", "assets", "alembic", "reflex.lock"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("rxconfig.py", "alembic.ini", "pyproject.toml", "requirements.txt"):
        shutil.copy2(ROOT / name, dest / name)
    web = ROOT / ".web"
    if web.is_dir():
        shutil.copytree(
            web,
            dest / ".web",
            symlinks=True,
            ignore=shutil.ignore_patterns("node_modules", "build", ".react-router"),
        )
        if (web / "node_modules").is_dir():
            (dest / ".web" / "node_modules").symlink_to(web / "node_modules")
    return dest


# The logs of the app instances running now (a failed browser test shows their ends).
RUNNING_LOGS: list[Path] = []


class AppProcess:
    """One app instance (`reflex run --env prod --single-port`) in its own process group."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path, cwd: Path = ROOT) -> None:
        self.port, self.log_path = port, log_path
        RUNNING_LOGS.append(log_path)
        self.url = f"http://localhost:{port}"
        reflex = str(Path(sys.executable).with_name("reflex"))
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    reflex,
                    "run",
                    "--env",
                    "prod",
                    "--single-port",
                    "--frontend-port",
                    str(port),
                    "--backend-port",
                    str(port),
                ],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_up(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if (
                    httpx.get(f"{self.url}/ping", timeout=2).status_code == 200
                    and httpx.get(f"{self.url}/login", timeout=5, follow_redirects=True).status_code == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the app did not come up in {timeout} s:\n{self.log_path.read_text()[-4000:]}")

    def processes(self) -> list[int]:
        """The pids of the instance: `reflex run` and its workers."""
        import psutil

        try:
            root = psutil.Process(self.proc.pid)
            return [root.pid, *(p.pid for p in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, as an orchestrator asks an instance to stop; SIGKILL if it will not. The exit code."""
        if self.log_path in RUNNING_LOGS:
            RUNNING_LOGS.remove(self.log_path)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            return self.proc.wait(timeout=timeout)
        except ProcessLookupError:
            return self.proc.poll()
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        """SIGKILL every process of the instance at once, as when its machine is lost."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)


@contextmanager
def running_apps(*specs: tuple[dict[str, str], int, Path, Path]) -> Iterator[list[AppProcess]]:
    """Start several instances at once (env, port, log, cwd each), wait for all, stop them afterwards."""
    for env, *_ in specs:
        prepare(env["DATABASE_URL"])
    apps: list[AppProcess] = []
    try:
        apps.extend(AppProcess(env, port, log, cwd) for env, port, log, cwd in specs)
        for app in apps:
            app.wait_until_up()
        yield apps
    finally:
        for app in apps:
            app.stop(timeout=15)


@contextmanager
def running_app(
    env: dict[str, str], port: int, log_path: Path, timeout: float = 300, cwd: Path = ROOT
) -> Iterator[str]:
    """Migrate the database, start the app from `cwd`, wait until it serves pages, stop it afterwards."""
    prepare(env["DATABASE_URL"])
    app = AppProcess(env, port, log_path, cwd)
    try:
        app.wait_until_up(timeout)
        yield app.url
    finally:
        app.stop(timeout=15)
