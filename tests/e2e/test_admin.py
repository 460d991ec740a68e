"""The operator's page: only an administrator sees it; disabling an account signs its open
browser out on its next action."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import OPERATOR_EMAIL
from tests.support.browser import PASSWORD, register, send, sign_in, unique_email

CONFIRM = re.compile(r"http://localhost:\d+(/api/auth/verify/\S+)")


def _confirm_address(page: Page, fake_smtp, email: str) -> None:
    """Open the confirmation link emailed at registration: ADMIN_EMAILS counts confirmed addresses."""
    link = CONFIRM.search(fake_smtp.text_of(fake_smtp.messages_to(email)[-1])).group(1)
    page.goto(link)
    expect(page.get_by_test_id("email-status")).to_have_text("confirmed")


def test_the_administrator_disables_an_account_whose_open_browser_is_signed_out(
    page: Page, new_page, fake_smtp
):
    register(page, OPERATOR_EMAIL)
    _confirm_address(page, fake_smtp, OPERATOR_EMAIL)

    person_page = new_page()
    person = register(person_page, unique_email("person"))
    # An ordinary account: no link to the page, and the page shows it nothing.
    expect(person_page.get_by_test_id("admin-link")).to_have_count(0)
    person_page.goto("/admin")
    expect(person_page.get_by_test_id("admin-refused")).to_be_visible()
    expect(person_page.get_by_test_id("admin-person-row")).to_have_count(0)
    expect(person_page.get_by_test_id("admin-people")).to_have_count(0)
    person_page.goto("/settings")
    limits = person_page.get_by_test_id("usage-limits")
    expect(limits.get_by_test_id("limit-in-flight")).to_contain_text("0 of 3")
    expect(limits.get_by_test_id("limit-spend")).to_contain_text("$0.00 of $10.00")
    person_page.goto("/")
    expect(person_page.get_by_test_id("composer-input")).to_be_visible()

    page.goto("/")
    page.get_by_test_id("admin-link").click()
    page.wait_for_url(re.compile(r"/admin$"))
    expect(page.get_by_test_id("admin-registration")).to_be_visible()
    row = page.locator(f'[data-testid="admin-person-row"][data-email="{person}"]')
    expect(row).to_be_visible()
    row.locator('[data-testid="admin-limit-input"][data-limit="monthly_spend"]').fill("2.5")
    row.get_by_test_id("admin-save-limits").click()
    expect(row).to_contain_text("$2.50 a month")
    row.get_by_test_id("admin-role").click()
    expect(row.get_by_test_id("admin-role")).to_have_text("Remove administrator")
    expect(row).to_contain_text("administrator")
    row.get_by_test_id("admin-role").click()
    expect(row.get_by_test_id("admin-role")).to_have_text("Make administrator")
    row.get_by_test_id("admin-disable").click()
    expect(row.get_by_test_id("admin-disable")).to_have_text("Enable")

    # The person's open page: its next action finds itself signed out.
    send(person_page, "am I still here?")
    person_page.wait_for_url(re.compile(r"/login"))
    sign_in(person_page, person, PASSWORD)
    expect(person_page.get_by_text("This account has been disabled")).to_be_visible()
