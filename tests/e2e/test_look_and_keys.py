"""The page's look and keys: light, dark or the system's (remembered); one model picker with a
cheap default that sees images; the keyboard shortcuts; dialogs that a reload does not reopen."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from chat_app.db import make_engine
from tests.support.browser import register, send

DARK = re.compile(r"\bdark\b")
LIGHT = re.compile(r"\blight\b")


def test_the_theme_follows_the_system_until_chosen_and_the_choice_is_remembered(page: Page):
    page.emulate_media(color_scheme="dark")
    register(page)
    html = page.locator("html")
    expect(html).to_have_class(DARK)  # as the system says
    page.get_by_test_id("theme-toggle").click()
    page.get_by_test_id("theme-light").click()
    expect(html).to_have_class(LIGHT)
    page.reload()
    expect(page.get_by_test_id("composer-input")).to_be_visible()
    expect(html).to_have_class(LIGHT)  # kept, though the system is dark
    page.get_by_test_id("theme-toggle").click()
    page.get_by_test_id("theme-system").click()
    expect(html).to_have_class(DARK)
    page.emulate_media(color_scheme="light")
    expect(html).to_have_class(LIGHT)  # "system" follows the device as it changes


def test_one_picker_whose_default_is_the_cheapest_model_that_sees_images(page: Page):
    register(page)
    expect(page.get_by_test_id("model-select")).to_have_count(0)  # the picker is the one way to choose
    picker = page.get_by_test_id("model-picker")
    expect(picker).to_contain_text("GPT-4o mini")
    picker.click()
    page.get_by_test_id("model-type-all").click()
    page.locator('[data-testid="model-option"][data-model-id="openai/gpt-4o"]').click()
    expect(picker).to_contain_text("GPT-4o")
    expect(picker).not_to_contain_text("mini")
    page.reload()
    expect(page.get_by_test_id("model-picker")).not_to_contain_text("mini")  # the last choice is kept


def test_keyboard_shortcuts(page: Page):
    register(page)
    page.get_by_test_id("new-chat").focus()
    page.keyboard.press("/")
    expect(page.get_by_test_id("composer-input")).to_be_focused()
    page.keyboard.press("Control+/")
    dialog = page.get_by_test_id("shortcuts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("shortcut")).to_have_count(8)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    send(page, "a long one [[tokens=200]] [[delay=0.1]]")
    page.wait_for_url(re.compile(r"/chat/"))
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "streaming")
    page.locator("body").press("Escape")  # stops the reply being written
    expect(reply).to_have_attribute("data-status", "stopped")

    page.keyboard.press("Control+Shift+O")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_test_id("message")).to_have_count(0)


def test_a_reload_does_not_bring_a_dialog_back(page: Page):
    register(page)
    send(page, "share me [[tokens=2]]")
    page.wait_for_url(re.compile(r"/chat/"))
    page.get_by_test_id("share-button").click()
    expect(page.get_by_test_id("share-dialog")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("composer-input")).to_be_visible()
    expect(page.get_by_test_id("message")).to_have_count(2)
    expect(page.get_by_test_id("share-dialog")).to_have_count(0)


def test_a_messages_actions_copy_it_link_to_it_and_say_when_and_by_which_model(page: Page, new_page):
    register(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    send(page, "**bold** question [[tokens=3]]")
    page.wait_for_url(re.compile(r"/chat/"))
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.get_by_test_id("message-model")).to_have_text("GPT-4o mini")
    mine = page.locator('[data-testid="message"][data-role="user"]').first
    expect(mine.get_by_test_id("message-time")).to_have_text(re.compile(r"\d"))
    mine.hover()
    mine.get_by_test_id("copy-message").click()
    assert page.evaluate("navigator.clipboard.readText()") == "**bold** question [[tokens=3]]"  # as Markdown
    reply.hover()
    reply.get_by_test_id("link-message").click()
    link = page.evaluate("navigator.clipboard.readText()")
    message_id = reply.get_attribute("data-message-id")
    assert link.endswith(f"?at={message_id}#message-{message_id}") and "/chat/" in link
    page.goto(link)
    expect(page.locator(f'[data-message-id="{message_id}"]')).to_be_in_viewport()


def test_empty_states_say_what_to_do(page: Page):
    register(page)
    expect(page.get_by_test_id("no-chats")).to_contain_text("No chats yet")
    expect(page.get_by_test_id("empty-chat")).to_contain_text("send a message to start a chat")
    expect(page.get_by_test_id("no-models")).to_have_count(0)  # this server has providers set up
    send(page, "hello [[tokens=2]]")
    page.wait_for_url(re.compile(r"/chat/"))
    expect(page.get_by_test_id("chat-item")).to_have_count(1)
    expect(page.get_by_test_id("no-chats")).to_have_count(0)


def test_with_no_model_to_answer_the_empty_chat_says_how_to_get_one(page: Page, app_database):
    """Every model turned off by the operator (as a server with no provider set up would be)."""
    engine = make_engine(app_database)
    with engine.connect() as db:
        enabled = [row[0] for row in db.execute(sa.text("SELECT id FROM models WHERE enabled"))]
    try:
        register(page)
        # A server just started writes its catalog once more (its start-up task): turned off
        # again until that has passed.
        for _ in range(40):
            with engine.begin() as db:
                db.execute(sa.text("UPDATE models SET enabled = false"))
            if not any(m["available"] for m in page.request.get("/api/models").json()):
                break
            page.wait_for_timeout(250)
        page.goto("/")
        callout = page.get_by_test_id("no-models")
        expect(callout).to_contain_text("No model can answer yet")
        expect(callout).to_contain_text("settings page")
        send(page, "anyone there?")  # refused with the reason, beside the composer; nothing is saved
        expect(page.get_by_test_id("composer-error")).not_to_be_empty()
        expect(page.get_by_test_id("message")).to_have_count(0)
    finally:
        with engine.begin() as db:
            db.execute(
                sa.text("UPDATE models SET enabled = true WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": enabled},
            )
        engine.dispose()


def test_the_keyboard_focus_is_not_lost_when_its_control_goes(page: Page):
    register(page)
    send(page, "first [[tokens=2]]")
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")
    composer = page.get_by_test_id("composer-input")

    def by_keyboard(testid: str) -> None:
        page.keyboard.press("Shift")  # the keyboard's turn: its focus is the one shown
        page.get_by_test_id(testid).focus()
        page.keyboard.press("Enter")

    by_keyboard("regenerate-button")  # the button goes while the new version is written
    expect(composer).to_be_focused()
    expect(reply.get_by_test_id("branch-label")).to_have_text("2 / 2")
    expect(reply).to_have_attribute("data-status", "complete")
    by_keyboard("branch-prev")  # the other version's message replaces this one
    expect(reply.get_by_test_id("branch-label")).to_have_text("1 / 2")
    expect(composer).to_be_focused()
