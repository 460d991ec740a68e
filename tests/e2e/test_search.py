"""Search from the sidebar: Ctrl+K, matches marked, a result opens its chat at the message."""

import re

from playwright.sync_api import Page, expect

from tests.support.browser import register, send


def _reply_done(page: Page) -> None:
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")


def test_search_finds_a_message_and_opens_its_chat_there(page: Page):
    register(page)
    send(page, "Tell me about capybaras [[tokens=2]]")
    _reply_done(page)
    first_chat = page.url
    page.get_by_test_id("new-chat").click()
    page.wait_for_url(re.compile(r"/$"))
    send(page, "Something else entirely [[tokens=1]]")
    _reply_done(page)

    page.keyboard.press("Control+k")
    box = page.locator('[data-testid="search-input"]')
    expect(page.locator("input:focus")).to_have_count(1)
    page.keyboard.type("capy")
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(2)  # the chat's title, and the question
    expect(results.nth(0)).to_contain_text("Title")
    expect(results.nth(1)).to_contain_text("You")
    expect(results.nth(1).locator("mark")).to_have_text("capybaras")
    expect(page.get_by_test_id("chat-item")).to_have_count(0)  # the results stand in for the lists

    results.nth(1).click()
    page.wait_for_url(re.compile(re.escape(first_chat) + r"#message-"))
    expect(page.locator(".message-found")).to_contain_text("Tell me about capybaras")
    expect(box.locator("input").or_(box)).to_have_value("")
    expect(page.get_by_test_id("chat-item")).to_have_count(2)

    page.keyboard.press("Control+k")
    page.keyboard.type("wombat")
    expect(page.get_by_test_id("search-note")).to_have_text("No chat or message has these words.")
