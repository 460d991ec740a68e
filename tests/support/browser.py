"""What a person does in the browser tests (register, sign in, send), and where the browser is."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

PASSWORD = "correct horse battery"


TOAST = "[data-sonner-toast]"  # a toast (sonner's, which Reflex's rx.toast shows)


def chromium_path() -> str:
    """Debian's Chromium (or CHROMIUM_PATH); its absence fails the run, never skips it."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"No Chromium at {path}: install Debian's chromium or set CHROMIUM_PATH.")
    return path


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
    # A dialog closes on the server's word; until then it keeps the focus, and text typed meanwhile
    # would go into it, not into the composer (the message then goes out empty, and is refused).
    expect(page.locator('[role="dialog"]')).to_have_count(0)
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    page.get_by_test_id("send-button").click()


def model_option(page: Page, model_id: str) -> Locator:
    """The picker opened on every model, and the option of this one."""
    page.get_by_test_id("model-picker").click()
    page.get_by_test_id("model-type-all").click()
    page.get_by_test_id("model-search").fill("")
    return page.locator(f'[data-testid="model-option"][data-model-id="{model_id}"]')


def choose_model(page: Page, model_id: str) -> None:
    """Choose through the picker, as a person does; returns once the picker has closed."""
    model_option(page, model_id).click()
    expect(page.get_by_test_id("model-search")).to_have_count(0)
