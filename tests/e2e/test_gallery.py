"""The README's gallery, taken from the real app on every run of the browser tests, so it shows
what the app looks like now: the chat in light and dark, a generated picture, the model picker, the
share dialog, and a phone."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import choose_model, register, send

GALLERY = Path(__file__).resolve().parents[2] / "docs" / "gallery"
ASSISTANT = '[data-testid="message"][data-role="assistant"]'
QUESTION = "How do I read a file line by line in Python? [[tokens=12]]"


def _shot(page: Page, name: str) -> None:
    page.wait_for_timeout(400)  # transitions end
    GALLERY.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(GALLERY / f"{name}.jpg"), type="jpeg", quality=70)


def test_the_gallery(page: Page, new_page):
    page.emulate_media(color_scheme="light")
    register(page)
    choose_model(page, "openai/gpt-4o")
    send(page, QUESTION)
    page.wait_for_url(re.compile(r"/chat/"))
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")
    send(page, "And with an index? [[tokens=8]]")
    expect(page.locator(ASSISTANT)).to_have_count(2)
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")
    _shot(page, "chat-light")
    page.emulate_media(color_scheme="dark")
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    _shot(page, "chat-dark")
    page.emulate_media(color_scheme="light")

    page.get_by_test_id("model-picker").click()
    expect(page.get_by_test_id("model-option").first).to_be_visible()
    _shot(page, "picker")
    page.keyboard.press("Escape")

    page.get_by_test_id("share-button").click()
    expect(page.get_by_test_id("share-dialog")).to_be_visible()
    _shot(page, "share")
    page.keyboard.press("Escape")

    page.get_by_test_id("new-chat").click()
    page.wait_for_url(re.compile(r"/$"))
    choose_model(page, "replicate/black-forest-labs/flux-schnell")
    send(page, "A lighthouse at dusk [[duration=0.5]]")
    picture = page.locator(f'{ASSISTANT} [data-testid="media-preview"] img')
    expect(picture).to_have_js_property("complete", True)
    _shot(page, "generation")

    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(page.url)
    expect(phone.locator(f'{ASSISTANT} [data-testid="media-preview"] img')).to_be_visible()
    _shot(phone, "phone")
    for name in ("chat-light", "chat-dark", "picker", "share", "generation", "phone"):
        assert (GALLERY / f"{name}.jpg").stat().st_size > 10_000
