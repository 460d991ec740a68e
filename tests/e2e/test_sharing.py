"""Sharing in the browser, with separate people in separate browser contexts."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.browser import register, send, unique_email

INVITE = re.compile(r"http://localhost:\d+(/invite/[A-Za-z0-9_-]{32})")


def _start_chat(page: Page, text: str = "hello there [[tokens=3]]") -> str:
    send(page, text)
    expect(page.locator('[data-role="assistant"][data-status="complete"]')).to_have_count(1)
    return page.url.rsplit("/", 1)[-1]


def _invite(page: Page, email: str, can_edit: bool = False) -> None:
    page.get_by_test_id("share-button").click()
    dialog = page.get_by_test_id("share-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("invite-email").fill(email)
    switch = dialog.get_by_test_id("invite-can-edit")
    if (switch.get_attribute("data-state") == "checked") != can_edit:
        switch.click()
    dialog.get_by_test_id("invite-submit").click()
    expect(dialog.locator(f'[data-testid="invitee"][data-email="{email}"]')).to_have_attribute(
        "data-can-edit", "true" if can_edit else "false"
    )


def _emailed_invite_path(fake_smtp, email: str) -> str:
    for message in reversed(fake_smtp.messages_to(email)):
        found = INVITE.search(fake_smtp.text_of(message))
        if found:
            return found.group(1)
    raise AssertionError(f"no invitation reached {email}")


def test_share_view_upgrade_public_rotate_remove(page: Page, new_page, fake_smtp, app_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    register(page)
    chat_id = _start_chat(page)
    guest_page = new_page()
    guest = register(guest_page, unique_email("guest"))

    # the owner invites the guest as a viewer; the email reaches them with their own link
    _invite(page, guest)
    guest_page.goto(_emailed_invite_path(fake_smtp, guest))
    expect(guest_page).to_have_url(re.compile(f"/chat/{chat_id}$"))
    expect(guest_page.locator('[data-role="assistant"][data-status="complete"]')).to_have_count(1)
    expect(guest_page.get_by_test_id("read-only-bar")).to_be_visible()
    expect(guest_page.get_by_test_id("composer-input")).to_have_count(0)
    expect(guest_page.get_by_test_id("share-button")).to_have_count(0)
    expect(guest_page.get_by_test_id("shared-chat-item")).to_have_count(1)

    # upgraded to editor: they can post (and are told who pays)
    dialog = page.get_by_test_id("share-dialog")
    row = dialog.locator(f'[data-testid="invitee"][data-email="{guest}"]')
    row.get_by_test_id("invitee-can-edit").click()
    expect(row).to_have_attribute("data-can-edit", "true")
    guest_page.reload()
    expect(guest_page.get_by_test_id("billing-note")).to_be_visible()
    send(guest_page, "a question from the guest [[tokens=2]]")
    expect(guest_page.locator('[data-role="assistant"][data-status="complete"]')).to_have_count(2)
    expect(page.locator('[data-role="user"]')).to_have_count(2)  # the owner's open view follows along

    # made public: a signed-out visitor opens the link, read-only
    dialog.get_by_test_id("public-toggle").click()
    expect(dialog.get_by_test_id("public-toggle")).to_have_attribute("data-state", "checked")
    link = dialog.get_by_test_id("share-link").inner_text()
    dialog.get_by_test_id("copy-link").click()
    expect(page.get_by_text("Link copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    visitor = new_page()
    visitor.goto(link)
    expect(visitor.locator('[data-role="user"]')).to_have_count(2)
    expect(visitor.get_by_test_id("composer-input")).to_have_count(0)
    expect(visitor.get_by_test_id("continue-in-my-account")).to_contain_text("Sign in")

    # rotated: the old link fails at once, the new one works
    dialog.get_by_test_id("rotate-link").click()
    expect(dialog.get_by_test_id("share-link")).not_to_have_text(link)
    new_link = dialog.get_by_test_id("share-link").inner_text()
    stranger = new_page()
    register(stranger, unique_email("stranger"))
    stranger.goto(link)
    expect(stranger.get_by_test_id("no-access")).to_be_visible()
    expect(stranger.get_by_test_id("no-access")).not_to_contain_text("hello there")
    visitor.goto(new_link)
    expect(visitor.locator('[data-role="user"]')).to_have_count(2)

    # removed (and private again): the guest loses access at their next action, without reloading
    dialog.get_by_test_id("public-toggle").click()
    expect(dialog.get_by_test_id("public-toggle")).to_have_attribute("data-state", "unchecked")
    row.get_by_test_id("remove-invitee").click()
    expect(row).to_have_count(0)
    send(guest_page, "still here?")
    expect(guest_page.get_by_test_id("no-access")).to_be_visible()
    expect(guest_page.locator('[data-testid="message"]')).to_have_count(0)


def test_a_private_link_asks_signed_out_visitors_to_sign_in_then_says_no(page: Page, new_page):
    register(page)
    _start_chat(page)
    page.get_by_test_id("share-button").click()
    link = page.get_by_test_id("share-link").inner_text()
    visitor = new_page()
    visitor.goto(link)
    expect(visitor).to_have_url(re.compile(r"/login\?next="))
    # no account yet: the link to the registration form keeps the way back
    switch = visitor.get_by_test_id("switch-auth-form")
    expect(switch).to_have_attribute("href", re.compile(r"^/register\?next=%2Fshare%2F"))
    visitor.goto(switch.get_attribute("href"))
    email = unique_email("curious")
    visitor.get_by_test_id("email").fill(email)
    visitor.get_by_test_id("password").fill("correct horse battery")
    visitor.get_by_test_id("register").click()
    expect(visitor.get_by_test_id("no-access")).to_be_visible()  # back at the link, which is not theirs
    expect(visitor.get_by_test_id("no-access")).to_contain_text("Ask its owner")


def test_continue_a_shared_chat_in_my_account(page: Page, new_page, fake_smtp):
    register(page)
    chat_id = _start_chat(page, "plan a trip [[tokens=4]]")
    reader_page = new_page()
    reader = register(reader_page, unique_email("reader"))
    _invite(page, reader)
    reader_page.goto(_emailed_invite_path(fake_smtp, reader))
    expect(reader_page.get_by_test_id("read-only-bar")).to_be_visible()
    reader_page.get_by_test_id("continue-in-my-account").click()
    expect(reader_page).not_to_have_url(re.compile(chat_id))
    expect(reader_page.get_by_test_id("composer-input")).to_be_visible()
    expect(reader_page.locator('[data-role="user"]')).to_contain_text("plan a trip")
    expect(reader_page.locator('[data-testid="chat-item"]')).to_have_count(1)  # now one of their own


def test_a_reader_made_from_an_editor_loses_the_composer_at_their_next_send(page: Page, new_page, fake_smtp):
    register(page)
    _start_chat(page)
    guest_page = new_page()
    guest = register(guest_page, unique_email("editor"))
    _invite(page, guest, can_edit=True)
    guest_page.goto(_emailed_invite_path(fake_smtp, guest))
    expect(guest_page.get_by_test_id("composer-input")).to_be_visible()
    row = page.locator(f'[data-testid="invitee"][data-email="{guest}"]')
    row.get_by_test_id("invitee-can-edit").click()
    expect(row).to_have_attribute("data-can-edit", "false")
    send(guest_page, "can I still write?")
    expect(guest_page.get_by_text("You can read this chat but not write in it.")).to_be_visible()
    expect(guest_page.get_by_test_id("read-only-bar")).to_be_visible()
    expect(page.locator('[data-role="user"]')).to_have_count(1)  # nothing was added
