"""Where I am signed in: the settings page lists my sessions, signs out everywhere else at once, and
changes my password (which signs out everywhere else too)."""

import re

from playwright.sync_api import Page, expect

from tests.support.browser import PASSWORD, register, sign_in

NEW_PASSWORD = "a brand new passphrase"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _signed_in(page: Page) -> None:
    expect(page.get_by_test_id("composer-input")).to_be_visible()
    expect(page.get_by_test_id("send-button")).to_be_enabled()


def _signed_in_still(page: Page) -> None:
    page.goto("/settings")
    expect(page.get_by_test_id("session-row").first).to_be_visible()


def _signed_out(page: Page) -> None:
    page.goto("/settings")
    page.wait_for_url(re.compile(r"/login\?next="))
    expect(page.get_by_test_id("sign-in")).to_be_visible()


def test_my_sessions_can_be_ended_one_by_one_or_everywhere_else_at_once(page: Page, new_page):
    email = register(page)
    laptop = new_page()
    sign_in(laptop, email)
    _signed_in(laptop)
    phone = new_page(user_agent=IPHONE)
    sign_in(phone, email)
    _signed_in(phone)
    page.goto("/settings")
    rows = page.get_by_test_id("session-row")
    expect(rows).to_have_count(3)
    expect(page.locator('[data-testid="session-row"][data-current="true"]')).to_have_count(1)
    expect(page.locator('[data-testid="session-row"][data-current="true"]')).to_contain_text(
        "Chrome on Linux"
    )
    rows.filter(has_text="Safari on iPhone").get_by_test_id("end-session").click()
    expect(rows).to_have_count(2)
    _signed_out(phone)
    _signed_in_still(laptop)
    page.get_by_test_id("end-other-sessions").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-current", "true")
    _signed_out(laptop)
    page.reload()
    expect(page.get_by_test_id("session-row")).to_have_count(1)  # still signed in here


def test_changing_my_password_needs_the_current_one_and_signs_out_everywhere_else(page: Page, new_page):
    email = register(page)
    laptop = new_page()
    sign_in(laptop, email)
    _signed_in(laptop)
    page.goto("/settings")
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    form = page.get_by_test_id("change-password-form")
    form.get_by_test_id("current-password").fill("not my password")
    form.get_by_test_id("new-password").fill(NEW_PASSWORD)
    page.get_by_test_id("change-password-submit").click()
    expect(page.get_by_text("Your current password is not right.")).to_be_visible()
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    form.get_by_test_id("current-password").fill(PASSWORD)
    form.get_by_test_id("new-password").fill(NEW_PASSWORD)
    page.get_by_test_id("change-password-submit").click()
    expect(page.get_by_test_id("password-message")).to_contain_text("Your password is changed")
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    expect(form.get_by_test_id("new-password")).to_have_value("")  # nothing stays in the page
    _signed_out(laptop)
    sign_in(laptop, email, PASSWORD)
    expect(laptop.get_by_test_id("auth-error")).to_contain_text("Wrong email or password")
    sign_in(laptop, email, NEW_PASSWORD)
    _signed_in(laptop)
