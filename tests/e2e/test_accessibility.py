"""axe-core finds no serious or critical violation on the main screens, light and dark."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.accessibility import serious_violations
from tests.support.browser import register, send


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_main_screens_have_no_serious_accessibility_violation(page: Page, scheme: str):
    page.emulate_media(color_scheme=scheme)
    found: dict[str, list[str]] = {}
    page.goto("/login")
    expect(page.get_by_test_id("sign-in")).to_be_visible()
    found["sign-in"] = serious_violations(page)

    register(page)
    send(page, "hello there [[tokens=3]]")
    page.wait_for_url(re.compile(r"/chat/"))
    expect(page.locator('[data-testid="message"][data-role="assistant"]')).to_have_attribute(
        "data-status", "complete"
    )
    found["chat"] = serious_violations(page)

    page.get_by_test_id("model-picker").click()
    expect(page.get_by_test_id("model-option").first).to_be_visible()
    found["picker"] = serious_violations(page, '[role="dialog"]')
    page.keyboard.press("Escape")

    page.get_by_test_id("share-button").click()
    expect(page.get_by_test_id("share-dialog")).to_be_visible()
    found["share dialog"] = serious_violations(page, '[role="dialog"]')
    page.keyboard.press("Escape")

    page.goto("/settings")
    expect(page.get_by_test_id("api-token-name")).to_be_visible()
    found["settings"] = serious_violations(page)
    assert {screen: v for screen, v in found.items() if v} == {}
