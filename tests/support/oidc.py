"""Signing in through the local OpenID Connect provider (oidc-provider-mock), without a browser."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import httpx
from starlette.testclient import TestClient


def oidc_sign_in(
    client: TestClient, issuer: str, next_path: str = "/", email: str | None = None, **claims: object
) -> httpx.Response:
    """The whole redirect flow as `email` (a new address unless given) with these claims; returns
    the app's answer to the provider's callback."""
    email = email or f"sso-{uuid.uuid4().hex[:8]}@example.com"
    answer = httpx.put(f"{issuer}/users/{quote(email, safe='')}", json={"email": email, **claims})
    assert answer.status_code == 204, answer.text
    start = client.get("/api/auth/oidc/oidc/login", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 302 and start.headers["location"].startswith(f"{issuer}/oauth2/authorize?")
    authorized = httpx.post(start.headers["location"], data={"sub": email}, follow_redirects=False)
    callback = authorized.headers["location"]
    assert callback.startswith("http://testserver/api/auth/oidc/oidc/callback?")
    return client.get(callback, follow_redirects=False)
