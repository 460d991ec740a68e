"""Sharing in the browser, with separate people in separate browser contexts."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from chat_app.state.live_reply import ACCESS_RECHECK
from tests.fakes import media_samples as samples
from tests.support.browser import choose_model, register, send, unique_email

INVITE = re.compile(r"http://localhost:\d+(/invite/[A-Za-z0-9_-]{32})")
CONFIRM = re.compile(r"http://localhost:\d+(/api/auth/verify/[A-Za-z0-9_.\-]+)")


def _register_confirmed(page: Page, fake_smtp) -> str:
    """A new account whose address is confirmed (only confirmed addresses email invitations)."""
    email = register(page)
    for message in reversed(fake_smtp.messages_to(email)):
        found = CONFIRM.search(fake_smtp.text_of(message))
        if found:
            page.goto(found.group(1))
            expect(page).to_have_url(re.compile(r"/settings/?\?verified=1$"))
            page.goto("/")
            expect(page.get_by_test_id("send-button")).to_be_enabled()
            return email
    raise AssertionError(f"no confirmation email reached {email}")


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
    _register_confirmed(page, fake_smtp)
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

    # removed (and private again): the guest's open view closes at once, without an action of theirs
    dialog.get_by_test_id("public-toggle").click()
    expect(dialog.get_by_test_id("public-toggle")).to_have_attribute("data-state", "unchecked")
    row.get_by_test_id("remove-invitee").click()
    expect(row).to_have_count(0)
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
    _register_confirmed(page, fake_smtp)
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
    _register_confirmed(page, fake_smtp)
    _start_chat(page)
    guest_page = new_page()
    guest = register(guest_page, unique_email("editor"))
    _invite(page, guest, can_edit=True)
    guest_page.goto(_emailed_invite_path(fake_smtp, guest))
    # The chat is open as the editor's (a page still loading shows the composer too): only then
    # does the owner change their mind, so the guest's view still believes they may write.
    expect(guest_page.locator('[data-role="assistant"][data-status="complete"]')).to_have_count(1)
    expect(guest_page.get_by_test_id("composer-input")).to_be_visible()
    row = page.locator(f'[data-testid="invitee"][data-email="{guest}"]')
    row.get_by_test_id("invitee-can-edit").click()
    expect(row).to_have_attribute("data-can-edit", "false")
    send(guest_page, "can I still write?")
    expect(guest_page.get_by_text("You can read this chat but not write in it.")).to_be_visible()
    expect(guest_page.get_by_test_id("read-only-bar")).to_be_visible()
    expect(page.locator('[data-role="user"]')).to_have_count(1)  # nothing was added


def test_an_unconfirmed_owner_invites_without_email_and_is_told_why(page: Page, new_page, fake_smtp):
    register(page)
    _start_chat(page)
    guest = unique_email("uninvited")
    _invite(page, guest)
    notice = page.get_by_test_id("share-notice")
    expect(notice).to_contain_text("only confirmed addresses send invitations")
    expect(page.get_by_test_id("copy-invite-link")).to_have_count(1)  # the link is there to send by hand
    assert fake_smtp.messages_to(guest, timeout=1) == []


def _a_reader_watching(page: Page, new_page, fake_smtp, name: str) -> tuple[Page, str]:
    """The owner's chat, open in an invited reader's page (the share dialog left open); the
    reader's page and address."""
    _register_confirmed(page, fake_smtp)
    _start_chat(page)
    guest_page = new_page()
    guest = register(guest_page, unique_email(name))
    _invite(page, guest)
    guest_page.goto(_emailed_invite_path(fake_smtp, guest))
    expect(guest_page.get_by_test_id("read-only-bar")).to_be_visible()
    return guest_page, guest


def test_a_reader_removed_mid_reply_stops_seeing_it_at_once(page: Page, new_page, fake_smtp):
    guest_page, guest = _a_reader_watching(page, new_page, fake_smtp, "watcher")
    page.keyboard.press("Escape")
    send(page, "a long story [[tokens=600]] [[delay=0.04]]")  # about 24 seconds of streaming
    streaming = '[data-role="assistant"][data-status="streaming"]'
    expect(guest_page.locator(streaming)).to_contain_text("tok3")  # the guest watches it grow

    page.get_by_test_id("share-button").click()
    row = page.locator(f'[data-testid="invitee"][data-email="{guest}"]')
    row.get_by_test_id("remove-invitee").click()
    expect(row).to_have_count(0)
    # within a few seconds, while the reply still streams, the guest's view is closed
    expect(guest_page.get_by_test_id("no-access")).to_be_visible(timeout=(ACCESS_RECHECK + 4) * 1000)
    expect(guest_page.locator('[data-testid="message"]')).to_have_count(0)
    expect(page.locator(streaming)).to_have_count(1)


def test_a_reader_removed_while_the_chat_is_quiet_loses_the_view_at_once(page: Page, new_page, fake_smtp):
    """No reply streams, so nothing else would make the reader's view look again: the removal is
    announced on the chat's channel, and the view checks its access at once."""
    guest_page, guest = _a_reader_watching(page, new_page, fake_smtp, "quiet")
    expect(guest_page.locator('[data-testid="message"]')).to_have_count(2)
    row = page.locator(f'[data-testid="invitee"][data-email="{guest}"]')
    row.get_by_test_id("remove-invitee").click()
    expect(row).to_have_count(0)
    expect(guest_page.get_by_test_id("no-access")).to_be_visible()
    expect(guest_page.locator('[data-testid="message"]')).to_have_count(0)


def test_a_public_link_shows_its_pictures_and_its_view_ends_when_the_link_changes(page: Page, new_page):
    register(page)
    choose_model(page, "openai/gpt-4o")
    page.get_by_test_id("file-input").set_input_files(
        files=[{"name": "cat.png", "mimeType": "image/png", "buffer": samples.png()}]
    )
    expect(page.get_by_test_id("attachment")).to_be_visible()
    _start_chat(page, "look at this [[tokens=2]]")
    page.get_by_test_id("share-button").click()
    dialog = page.get_by_test_id("share-dialog")
    dialog.get_by_test_id("public-toggle").click()
    expect(dialog.get_by_test_id("public-toggle")).to_have_attribute("data-state", "checked")
    link = dialog.get_by_test_id("share-link").inner_text()

    visitor = new_page()  # signed out
    visitor.goto(link)
    picture = visitor.locator('[data-testid="media-preview"][data-kind="image"] img')
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.naturalWidth") > 0  # served to the link's reader
    assert picture.get_attribute("src").endswith("?link=" + link.rsplit("/", 1)[-1])

    dialog.get_by_test_id("rotate-link").click()
    expect(dialog.get_by_test_id("share-link")).not_to_have_text(link)
    page.keyboard.press("Escape")
    send(page, "and now? [[tokens=2]]")
    # the open view of the old link learns of the new message, and that its link no longer works
    expect(visitor.get_by_test_id("no-access")).to_be_visible(timeout=20_000)
    expect(visitor.locator('[data-testid="message"]')).to_have_count(0)
