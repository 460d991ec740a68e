"""Conversations as trees in the browser: edit → a new branch → switch → regenerate → reload (the
branch is kept) → a public link's visitor sees the branch the owner left selected, and a view of
another tab follows the owner's switch live."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.browser import TOAST, choose_model, register, send

USER = '[data-testid="message"][data-role="user"]'
ASSISTANT = '[data-testid="message"][data-role="assistant"]'


def _settled(page: Page, replies: int) -> None:
    expect(page.locator(ASSISTANT)).to_have_count(replies)
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")


def test_edit_switch_regenerate_reload_and_share_a_branch(page: Page, new_page):
    register(page)
    choose_model(page, "openai/gpt-4o")
    send(page, "first question [[tokens=2]]")
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
    _settled(page, 1)
    send(page, "second question [[tokens=3]]")
    _settled(page, 2)
    expect(page.get_by_test_id("branch-switcher")).to_have_count(0)  # one version of everything
    other_tab = page.context.new_page()
    other_tab.goto(page.url)
    _settled(other_tab, 2)

    # Edit the first question: a new branch replaces what followed it.
    page.locator(USER).first.get_by_test_id("edit-message").click()
    page.get_by_test_id("edit-input").fill("first question, edited [[tokens=4]]")
    page.get_by_test_id("edit-save").click()
    expect(page.get_by_test_id("composer-input")).to_be_focused()  # the focus is not lost
    _settled(page, 1)
    expect(page.locator(USER)).to_have_count(1)
    expect(page.locator(USER).first).to_contain_text("first question, edited")
    expect(page.locator(ASSISTANT).last).to_contain_text("tok4")
    first = page.locator(USER).first
    expect(first.get_by_test_id("branch-label")).to_have_text("2 / 2")
    expect(first.get_by_test_id("branch-next")).to_be_disabled()
    # The other tab moves to the new branch too, and says why its page changed.
    expect(other_tab.locator(USER)).to_have_count(1)
    expect(other_tab.locator(USER).first).to_contain_text("first question, edited")
    expect(other_tab.locator(TOAST).filter(has_text="another version")).to_be_visible()
    expect(page.locator(TOAST).filter(has_text="another version")).to_have_count(0)  # it knows

    # Back to the first version: its whole branch returns.
    first.get_by_test_id("branch-prev").click()
    expect(page.locator(USER)).to_have_count(2)
    expect(page.locator(USER).first).to_contain_text("first question [[tokens=2]]")
    expect(page.locator(USER).first.get_by_test_id("branch-label")).to_have_text("1 / 2")
    expect(other_tab.locator(USER)).to_have_count(2)  # the owner's choice, followed live

    # Regenerate the last reply: the old one stays as version 1.
    old = page.locator(ASSISTANT).last.inner_text()
    page.get_by_test_id("regenerate-button").click()
    _settled(page, 2)
    last = page.locator(ASSISTANT).last
    expect(last.get_by_test_id("branch-label")).to_have_text("2 / 2")
    last.get_by_test_id("branch-prev").click()
    expect(page.locator(ASSISTANT).last.get_by_test_id("branch-label")).to_have_text("1 / 2")
    expect(page.locator(ASSISTANT).last).to_contain_text(old.splitlines()[0])
    page.locator(ASSISTANT).last.get_by_test_id("branch-next").click()
    expect(page.locator(ASSISTANT).last.get_by_test_id("branch-label")).to_have_text("2 / 2")

    # Reload: the branch left selected is what the chat opens with.
    page.reload()
    expect(page.locator(USER)).to_have_count(2)
    expect(page.locator(USER).first).to_contain_text("first question [[tokens=2]]")
    expect(page.locator(ASSISTANT).last.get_by_test_id("branch-label")).to_have_text("2 / 2")

    # A public link's visitor sees the same branch, and may look at the others without moving it.
    page.get_by_test_id("share-button").click()
    dialog = page.get_by_test_id("share-dialog")
    dialog.get_by_test_id("public-toggle").click()
    expect(dialog.get_by_test_id("public-toggle")).to_have_attribute("data-state", "checked")
    link = dialog.get_by_test_id("share-link").inner_text()
    page.keyboard.press("Escape")
    visitor = new_page()
    visitor.goto(link)
    expect(visitor.locator(USER)).to_have_count(2)
    expect(visitor.locator(USER).first).to_contain_text("first question [[tokens=2]]")
    expect(visitor.get_by_test_id("edit-message")).to_have_count(0)
    visitor.locator(USER).first.get_by_test_id("branch-next").click()
    expect(visitor.locator(USER)).to_have_count(1)
    expect(visitor.locator(USER).first).to_contain_text("first question, edited")
    page.reload()
    expect(page.locator(USER)).to_have_count(2)  # the visitor only looked

    # A search result on the other branch opens that branch, up to the message found (the owner
    # moves the chat there: what they write next follows what they see).
    page.get_by_test_id("search-input").fill("edited")
    result = page.get_by_test_id("search-result").filter(has_text="first question, edited")
    result.first.click()
    page.wait_for_url(re.compile(r"\?at=.+#message-"))
    expect(page.locator(USER)).to_have_count(1)
    expect(page.locator(USER).first).to_contain_text("first question, edited")
    expect(page.locator(USER).first.get_by_test_id("branch-label")).to_have_text("2 / 2")
    expect(page.locator(".message-found")).to_contain_text("first question, edited")
