"""Settings: your own key makes an unconfigured provider usable for you, is never shown back,
and your usage totals add up."""

import re

from playwright.sync_api import Page, expect

from tests.support.browser import choose_model, model_option, register, send

OWN_KEY = "sk-my-own-deepseek-key-9876"


def test_own_key_is_used_for_my_replies_and_never_shown_back(page: Page, fake_providers):
    received: list[str] = []  # everything the server sends this page over the websocket
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(str(payload))))
    register(page)
    expect(model_option(page, "deepseek/deepseek-chat")).to_have_attribute("data-available", "false")
    page.keyboard.press("Escape")
    page.get_by_test_id("settings-link").click()
    page.wait_for_url(re.compile(r"/settings$"))
    expect(page.get_by_test_id("api-key-status-deepseek")).to_have_text("not set")
    page.get_by_test_id("api-key-input-deepseek").fill(OWN_KEY)
    page.get_by_test_id("api-key-save-deepseek").click()
    expect(page.get_by_test_id("api-key-status-deepseek")).to_have_text("set · …9876")
    expect(page.get_by_test_id("api-key-input-deepseek")).to_have_value("")
    assert OWN_KEY not in page.content()
    page.goto("/")
    choose_model(page, "deepseek/deepseek-chat")  # available now: the person's own key
    send(page, "on my own key [[tokens=5]]")
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")
    assert fake_providers.chat_requests[-1]["headers"]["authorization"] == f"Bearer {OWN_KEY}"
    assert OWN_KEY not in page.content()
    page.goto("/settings")
    expect(page.get_by_test_id("usage-total-tokens")).to_contain_text("5 out")
    page.get_by_test_id("api-key-delete-deepseek").click()
    expect(page.get_by_test_id("api-key-status-deepseek")).to_have_text("not set")
    assert received and not any(OWN_KEY in frame for frame in received)  # no state var ever held it


def test_confirm_my_email_address_from_the_emailed_link(page: Page, fake_smtp):
    email = register(page)
    page.goto("/settings")
    expect(page.get_by_test_id("email-status")).to_have_text("not confirmed")
    page.get_by_test_id("resend-verification").click()
    expect(page.get_by_test_id("verify-message")).to_contain_text("We sent a confirmation link")
    messages = fake_smtp.messages_to(email)
    assert len(messages) >= 2  # one at registration, one asked for now
    link = re.search(r"http://localhost:\d+(/api/auth/verify/\S+)", fake_smtp.text_of(messages[-1])).group(1)
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/settings/?\?verified=1$"))
    expect(page.get_by_test_id("email-status")).to_have_text("confirmed")
    expect(page.get_by_test_id("verify-message")).to_contain_text("confirmed")
