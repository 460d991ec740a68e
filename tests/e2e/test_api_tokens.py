"""API tokens: made on the settings page and shown once, then used by OpenAI's own client to
stream a reply that, saved, appears in the app as a chat of the token's person; revoked there,
the token stops working."""

import re

import openai
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import register


def test_a_token_made_in_settings_streams_a_saved_reply_that_appears_in_the_app(page: Page, app_url: str):
    register(page)
    page.get_by_test_id("settings-link").click()
    page.wait_for_url(re.compile(r"/settings$"))
    expect(page.get_by_test_id("api-base-url")).to_have_text(f"{app_url}/v1")  # what a program is given
    page.get_by_test_id("api-token-name").fill("My script")
    page.get_by_test_id("api-token-create").click()
    shown = page.get_by_test_id("api-token-value")
    expect(shown).to_have_text(re.compile(r"^cat_[A-Za-z0-9_-]{43}$"))
    token = shown.inner_text()
    row = page.get_by_test_id("api-token-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("My script")
    expect(row).to_contain_text(token[:12] + "…")
    expect(row).to_contain_text("last used never")
    expect(page.get_by_test_id("api-token-name")).to_have_value("")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_test_id("api-token-copy").click()
    expect(page.get_by_text("Token copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token

    program = openai.OpenAI(base_url=f"{app_url}/v1", api_key=token, max_retries=0)
    stream = program.chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "Written by my script [[tokens=6]]"}],
        stream=True,
        extra_body={"save": True},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "tok1 tok2 tok3 tok4 tok5 tok6"

    page.goto("/")
    chat = page.get_by_test_id("chat-item").first
    expect(chat).to_contain_text("Written by my script")
    chat.click()
    expect(page.locator('[data-testid="message"][data-role="user"]').last).to_contain_text(
        "Written by my script"
    )
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply).to_contain_text("tok1 tok2 tok3 tok4 tok5 tok6")

    page.goto("/settings")
    expect(row).to_have_count(1)
    expect(row).not_to_contain_text("last used never")
    expect(page.get_by_test_id("api-token-value")).to_have_count(0)  # shown once only
    assert token not in page.content()
    page.get_by_test_id("api-token-revoke").click()
    expect(row).to_have_count(0)
    with pytest.raises(openai.AuthenticationError, match="revoked"):
        program.models.list()
    program.close()
