"""The real app, compiled and served by `reflex run --env prod`, against the fake providers,
driven by Playwright in the system Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.app_server import CHROMIUM_ARGS, RUNNING_LOGS, app_environment, free_port, running_app
from tests.support.browser import chromium_path, pages_on

OPERATOR_EMAIL = "operator@example.com"
METRICS_TOKEN = "e2e-metrics-token"
expect.set_options(timeout=10_000)  # a loaded 2-core CI machine compiles and streams more slowly
APP_LOG_LINES = 60  # of each running app's log, shown under a failed test


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test shows the end of each running app's log: what the servers said."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for log in RUNNING_LOGS:
            if log.exists():
                lines = log.read_text(errors="replace").splitlines()[-APP_LOG_LINES:]
                report.sections.append((f"app log {log.parent.name}/{log.name} (its end)", "\n".join(lines)))


@pytest.fixture(autouse=True)
def watchable_generations(replicate_server) -> Iterator[None]:
    """Generations slow enough for a person to see their progress and cancel them."""
    with replicate_server.paced(start_delay=0.5, duration=2.5):
        yield


@pytest.fixture(scope="session")
def app_data(tmp_path_factory) -> Path:
    """The app's own folder: its SQLite database (tests may seed it directly) and media."""
    return tmp_path_factory.mktemp("app")


@pytest.fixture(scope="session")
def app_database(app_data) -> str:
    return f"sqlite:///{app_data / 'app.db'}"


@pytest.fixture(scope="session")
def app_url(
    provider_server, replicate_server, smtp_server, oidc_provider, app_data, app_database
) -> Iterator[str]:
    port = free_port()
    data = app_data
    extra = {
        **provider_server.env(),
        "LLM_FIRST_TOKEN_TIMEOUT": "8",
        "LLM_CHUNK_GAP_TIMEOUT": "4",
        "LLM_TOTAL_TIMEOUT": "60",
        "OIDC_CLIENT_ID": "chat-app-tests",
        "OIDC_CLIENT_SECRET": "chat-app-tests-secret",
        "OIDC_DISCOVERY_URL": f"{oidc_provider}/.well-known/openid-configuration",
        "OIDC_LABEL": "Test SSO",
        **replicate_server.env(),  # image and video models listed as available, served by the fake
        "GENERATION_POLL_INTERVAL": "0.3",
        "MEDIA_DIR": str(data / "media"),
        **smtp_server.env(),  # invitations and address confirmations really go out, to a local server
        "ADMIN_EMAILS": OPERATOR_EMAIL,  # an administrator once the address is confirmed
        "METRICS_TOKEN": METRICS_TOKEN,
        # The server has no DeepSeek key: only people who store their own get titles written.
        "TITLE_MODEL": "deepseek/deepseek-chat",
    }
    env = app_environment(port, app_database, extra)
    env.pop("DEEPSEEK_API_KEY", None)  # one provider left unconfigured, to show "unavailable"
    with running_app(env, port, data / "app.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url) -> Iterator[Page]:
    with pages_on(browser, app_url) as make:
        yield make(viewport={"width": 1280, "height": 800})


@pytest.fixture
def new_page(browser, app_url) -> Iterator[Callable[..., Page]]:
    with pages_on(browser, app_url) as make:
        yield make
