"""The real app, compiled and served by `reflex run --env prod`, against the fake providers,
driven by Playwright in the system Chromium."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import catalog_versions
from tests.fakes.providers import FakeProviders
from tests.fakes.replicate import FakeReplicate
from tests.support.app_server import CHROMIUM_ARGS, app_environment, free_port, running_app

PASSWORD = "correct horse battery"

pytestmark = pytest.mark.e2e
expect.set_options(timeout=10_000)  # a loaded 2-core CI machine compiles and streams more slowly


def _browser_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"No Chromium at {path}: install Debian's chromium or set CHROMIUM_PATH.")
    return path


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders() as providers:
        yield providers


@pytest.fixture(scope="session")
def replicate_fake() -> Iterator[FakeReplicate]:
    with FakeReplicate(start_delay=0.5, duration=2.5, versions=catalog_versions()) as fake_replicate:
        yield fake_replicate


@pytest.fixture(scope="session")
def app_data(tmp_path_factory) -> Path:
    """The app's own folder: its SQLite database (tests may seed it directly) and media."""
    return tmp_path_factory.mktemp("app")


@pytest.fixture(scope="session")
def app_database(app_data) -> str:
    return f"sqlite:///{app_data / 'app.db'}"


@pytest.fixture(scope="session")
def app_url(fake, replicate_fake, fake_smtp, oidc_provider, app_data, app_database) -> Iterator[str]:
    port = free_port()
    data = app_data
    extra = {
        **fake.env(),
        "LLM_FIRST_TOKEN_TIMEOUT": "8",
        "LLM_CHUNK_GAP_TIMEOUT": "4",
        "LLM_TOTAL_TIMEOUT": "60",
        "OIDC_CLIENT_ID": "chat-app-tests",
        "OIDC_CLIENT_SECRET": "chat-app-tests-secret",
        "OIDC_DISCOVERY_URL": f"{oidc_provider}/.well-known/openid-configuration",
        "OIDC_LABEL": "Test SSO",
        **replicate_fake.env(),  # image and video models listed as available, served by the fake
        "GENERATION_POLL_INTERVAL": "0.3",
        "MEDIA_DIR": str(data / "media"),
        **fake_smtp.env(),  # invitations and address confirmations really go out, to a local server
    }
    env = app_environment(port, app_database, extra)
    env.pop("DEEPSEEK_API_KEY", None)  # one provider left unconfigured, to show "unavailable"
    with running_app(env, port, data / "app.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=_browser_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def pages_on(browser: Browser, base_url: str) -> Iterator[Callable[..., Page]]:
    """Pages in fresh browser contexts on `base_url` (another person, or a signed-out visitor)."""
    contexts = []

    def make(**kwargs) -> Page:
        context = browser.new_context(base_url=base_url, **kwargs)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(browser, app_url) -> Iterator[Page]:
    with pages_on(browser, app_url) as make:
        yield make(viewport={"width": 1280, "height": 800})


@pytest.fixture
def new_page(browser, app_url) -> Iterator[Callable[..., Page]]:
    with pages_on(browser, app_url) as make:
        yield make


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def register(page: Page, email: str | None = None) -> str:
    email = email or unique_email()
    page.goto("/register")
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("register").click()
    expect(page.get_by_test_id("composer-input")).to_be_visible()
    # The page has loaded the user's data from the server (not just the static shell).
    expect(page.get_by_text(email)).to_be_visible()
    expect(page.get_by_test_id("send-button")).to_be_enabled()
    return email


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("sign-in").click()


def send(page: Page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    page.get_by_test_id("send-button").click()


def choose_model(page: Page, model_id: str) -> None:
    page.get_by_test_id("model-select").select_option(model_id)
