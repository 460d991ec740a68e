"""Sign-in through an OpenID Connect provider over HTTP (oidc-provider-mock, no browser): back to
the page that asked, never to another site, refused without a verified email."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from starlette.testclient import TestClient


@pytest.fixture
def sso(oidc_provider, app_settings, monkeypatch) -> Iterator[TestClient]:
    """The API with the provider configured as `oidc` (the app reads it when built)."""
    from chat_app import settings
    from chat_app.api.app import make_api

    monkeypatch.setenv("OIDC_CLIENT_ID", "chat-app-tests")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "chat-app-tests-secret")
    monkeypatch.setenv("OIDC_DISCOVERY_URL", f"{oidc_provider}/.well-known/openid-configuration")
    settings.get_settings.cache_clear()
    with TestClient(make_api(), base_url="http://testserver") as client:
        yield client


def _sign_in(client: TestClient, issuer: str, next_path: str, **claims: object) -> httpx.Response:
    """The whole redirect flow; returns the app's answer to the provider's callback."""
    email = f"sso-{uuid.uuid4().hex[:8]}@example.com"
    answer = httpx.put(f"{issuer}/users/{quote(email, safe='')}", json={"email": email, **claims})
    assert answer.status_code == 204, answer.text
    start = client.get("/api/auth/oidc/oidc/login", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 302 and start.headers["location"].startswith(f"{issuer}/oauth2/authorize?")
    authorized = httpx.post(start.headers["location"], data={"sub": email}, follow_redirects=False)
    callback = authorized.headers["location"]
    assert callback.startswith("http://testserver/api/auth/oidc/oidc/callback?")
    return client.get(callback, follow_redirects=False)


def test_a_verified_email_signs_in_and_returns_to_the_page_that_asked(sso, oidc_provider):
    done = _sign_in(sso, oidc_provider, "/chats/1?x=y", email_verified=True)
    assert done.status_code == 303 and done.headers["location"] == "/chats/1?x=y"
    assert sso.get("/api/me").status_code == 200


def test_next_never_leaves_the_site(sso, oidc_provider):
    done = _sign_in(sso, oidc_provider, "//evil.example/", email_verified=True)
    assert done.status_code == 303 and done.headers["location"] == "/"


def test_an_unverified_email_is_refused(sso, oidc_provider):
    done = _sign_in(sso, oidc_provider, "/chats/1", email_verified=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/login?error=unverified&next=%2Fchats%2F1"
    assert sso.get("/api/me").status_code == 401


def test_an_unknown_provider_goes_back_to_sign_in(sso):
    for step in ("login", "callback"):
        answer = sso.get(f"/api/auth/oidc/nobody/{step}", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith(
            "/login?error=oidc_unknown"
        )
