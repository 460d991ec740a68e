"""Search: from the sidebar's box, and from the command palette (Ctrl+K) with the keyboard alone."""

import re

from playwright.sync_api import Page, expect

from tests.support.browser import register, send


def _reply_done(page: Page) -> None:
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")


def _two_chats(page: Page) -> str:
    """A chat about capybaras (its address) and a newer one about something else."""
    register(page)
    send(page, "Tell me about capybaras [[tokens=2]]")
    _reply_done(page)
    first_chat = page.url
    page.get_by_test_id("new-chat").click()
    page.wait_for_url(re.compile(r"/$"))
    send(page, "Something else entirely [[tokens=1]]")
    _reply_done(page)
    return first_chat


def test_the_sidebar_search_finds_a_message_and_opens_its_chat_there(page: Page):
    first_chat = _two_chats(page)
    page.get_by_test_id("search-input").click()
    page.keyboard.type("capy")
    results = page.locator('[data-testid="search-result"]:visible')
    expect(results).to_have_count(2)  # the chat's title, and the question
    expect(results.nth(0)).to_contain_text("Title")
    expect(results.nth(1)).to_contain_text("You")
    expect(results.nth(1).locator("mark")).to_have_text("capybaras")
    expect(page.get_by_test_id("chat-item")).to_have_count(0)  # the results stand in for the lists

    results.nth(1).click()
    page.wait_for_url(re.compile(re.escape(first_chat) + r"\?at=[0-9a-f-]+#message-"))
    expect(page.locator(".message-found")).to_contain_text("Tell me about capybaras")
    expect(page.get_by_test_id("chat-item")).to_have_count(2)

    page.get_by_test_id("search-input").click()
    page.keyboard.type("wombat")
    expect(page.get_by_test_id("search-note").first).to_have_text("No chat or message has these words.")


def test_the_command_palette_searches_and_acts_from_the_keyboard(page: Page):
    first_chat = _two_chats(page)
    palette = page.get_by_test_id("command-palette")
    page.keyboard.press("Control+k")
    expect(palette.locator("input")).to_be_focused()
    expect(palette.get_by_test_id("palette-action")).to_have_count(3)
    page.keyboard.type("capy")
    results = palette.get_by_test_id("search-result")
    expect(results).to_have_count(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # the second result: the question
    page.wait_for_url(re.compile(re.escape(first_chat) + r"\?at=[0-9a-f-]+#message-"))
    expect(palette).to_have_count(0)
    expect(page.locator(".message-found")).to_contain_text("Tell me about capybaras")

    page.keyboard.press("Control+k")
    expect(palette.locator("input")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # "Choose the model"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("model-search")).to_be_focused()
    expect(palette).to_have_count(0)  # gone: Escape is the picker's now
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("model-search")).to_have_count(0)

    page.keyboard.press("Control+k")
    page.get_by_test_id("palette-action").filter(has_text="Settings").click()
    page.wait_for_url(re.compile(r"/settings$"))
