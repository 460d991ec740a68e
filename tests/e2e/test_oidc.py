"""Signing in through a real OpenID Connect provider (oidc-provider-mock): the whole redirect
flow in the browser, back to the page that asked for sign-in, refused without a verified
email, and joined to an existing password account with the same email."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import register, send, unique_email

ASSISTANT = '[data-testid="message"][data-role="assistant"]'


def _set_claims(issuer: str, sub: str, **claims: object) -> None:
    """What the provider will say about `sub` (the mock's own API; it replaces all claims)."""
    response = httpx.put(f"{issuer}/users/{quote(sub, safe='')}", json={"email": sub, **claims})
    assert response.status_code == 204, response.text


def _sso(page: Page, issuer: str, sub: str) -> None:
    """From /login: press the SSO button, pick `sub` on the provider's page, authorize."""
    button = page.get_by_test_id("oidc-oidc")
    expect(button).to_be_visible()
    expect(button).to_contain_text("Test SSO")
    button.click()
    page.wait_for_url(f"{issuer}/oauth2/authorize?*")
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()


def _signed_in_as(page: Page, email: str) -> None:
    """Signed in as `email`, with the page's state loaded (the email comes from the server)."""
    expect(page.get_by_test_id("composer-input")).to_be_visible()
    expect(page.get_by_test_id("sign-out")).to_be_visible()
    expect(page.get_by_text(email, exact=True)).to_be_visible()


def _chat_id(page: Page) -> str:
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[-1]


def _say(page: Page, text: str) -> str:
    """Send `text`, wait for the whole reply, return the chat's id."""
    send(page, text)
    chat_id = _chat_id(page)
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")
    return chat_id


def test_sign_in_with_sso_creates_the_account_and_chats(page: Page, oidc_provider: str):
    email = unique_email("sso")
    _set_claims(oidc_provider, email, email_verified=True)
    page.goto("/login")
    _sso(page, oidc_provider, email)
    page.wait_for_url(re.compile(r"^http://localhost:\d+/$"))
    _signed_in_as(page, email)
    _say(page, "hello")
    # The session is an httpOnly cookie, and the flow's own state cookie is not left behind.
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["chat_session"]["httpOnly"]
    assert "oidc_flow" not in cookies or not cookies["oidc_flow"]["value"]


def test_sso_returns_to_the_chat_that_asked_for_sign_in(page: Page, new_page, oidc_provider: str):
    email = unique_email("sso-next")
    _set_claims(oidc_provider, email, email_verified=True)
    page.goto("/login")
    _sso(page, oidc_provider, email)
    _signed_in_as(page, email)
    chat_id = _say(page, "find me again")

    visitor = new_page()
    visitor.goto(f"/chat/{chat_id}")
    visitor.wait_for_url(re.compile(rf"/login\?next=/chat/{chat_id}$"))
    expect(visitor.get_by_test_id("oidc-oidc")).to_have_attribute(
        "href", re.compile(rf"[?&]next=(/|%2F)chat(/|%2F){chat_id}$")
    )
    _sso(visitor, oidc_provider, email)
    visitor.wait_for_url(re.compile(rf"/chat/{chat_id}$"))
    expect(visitor.get_by_test_id("message").first).to_contain_text("find me again")


@pytest.mark.parametrize(
    "claims",
    [{"email_verified": False}, None],
    ids=["email_verified-false", "mock-default-claims-without-email_verified"],
)
def test_sso_without_a_verified_email_is_refused(page: Page, oidc_provider: str, claims):
    email = unique_email("sso-unverified")
    if claims is not None:
        _set_claims(oidc_provider, email, **claims)
    # else: the mock makes up {"email": sub} itself, with no email_verified claim at all.
    page.goto("/login")
    _sso(page, oidc_provider, email)
    page.wait_for_url(re.compile(r"/login/?\?error=unverified"))
    expect(page.get_by_test_id("auth-error")).to_contain_text("verified")
    expect(page.get_by_test_id("composer-input")).to_have_count(0)
    assert "chat_session" not in {c["name"] for c in page.context.cookies()}
    # No account was made for that email: registering it with a password still works.
    register(page, email)


def test_sso_with_a_verified_email_joins_the_existing_password_account(
    page: Page, new_page, oidc_provider: str
):
    email = register(page, unique_email("sso-existing"))
    _signed_in_as(page, email)  # the page has loaded its state, so the message is not lost
    _say(page, "written before SSO")

    _set_claims(oidc_provider, email, email_verified=True)
    other = new_page()
    other.goto("/login")
    _sso(other, oidc_provider, email)
    _signed_in_as(other, email)
    expect(other.get_by_test_id("chat-item").first).to_contain_text("written before SSO")
    expect(other.get_by_test_id("chat-item")).to_have_count(1)
