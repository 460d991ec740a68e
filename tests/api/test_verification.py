"""Password accounts confirm their email address through a link that only works for them."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.support.factories import api_user

LINK = re.compile(r"http://testserver(/api/auth/verify/[A-Za-z0-9_.\-]+)")


def _link_in(smtp, email: str) -> str:
    (message,) = smtp.messages_to(email)
    assert message["Subject"] == "Confirm your email address"
    return LINK.search(smtp.text_of(message)).group(1)


def test_registering_sends_a_link_that_confirms_the_address(api, smtp_env):
    email = api_user(api)
    assert api.get("/api/me").json()["email_verified"] is False
    path = _link_in(smtp_env, email)
    response = api.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/settings?verified=1"
    assert api.get("/api/me").json()["email_verified"] is True
    assert api.post("/api/auth/verify").json() == {"sent": False}  # nothing left to confirm


def test_the_link_does_nothing_for_someone_else(api, smtp_env):
    email = api_user(api)
    path = _link_in(smtp_env, email)
    with TestClient(api.app, base_url="http://testserver") as other:
        signed_out = other.get(path, follow_redirects=False)
        assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login?next=")
        api_user(other)
        wrong = other.get(path, follow_redirects=False)
        assert wrong.headers["location"] == "/settings?verify_error=other_account"
        assert other.get("/api/me").json()["email_verified"] is False
    assert api.get("/api/me").json()["email_verified"] is False
    tampered = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    assert api.get(tampered, follow_redirects=False).headers["location"] == "/settings?verify_error=invalid"
    assert api.get("/api/me").json()["email_verified"] is False


def test_a_new_link_can_be_asked_for(api, smtp_env):
    email = api_user(api)
    smtp_env.inbox.clear()
    assert api.post("/api/auth/verify").json() == {"sent": True}
    assert (
        api.get(_link_in(smtp_env, email), follow_redirects=False).headers["location"]
        == "/settings?verified=1"
    )


def test_without_smtp_no_email_is_attempted(api):
    api_user(api)
    assert api.post("/api/auth/verify").json() == {"sent": False}


def test_an_old_link_has_expired(session, app_settings):
    import pytest

    from chat_app.services import verification
    from chat_app.services.errors import Invalid
    from tests.support.factories import make_user

    user = make_user(session)
    with pytest.raises(Invalid, match="expired"):
        verification.confirm(user, verification.token_for(user), session=session, max_age=-1)
    assert user.email_verified is False


def test_one_client_may_ask_for_only_so_many_confirmation_emails(api, smtp_env, monkeypatch):
    from chat_app import settings

    monkeypatch.setenv("CONFIRMATION_EMAILS_PER_IP", "2")
    settings.get_settings.cache_clear()
    for _ in range(2):
        api_user(api)
        assert api.post("/api/auth/verify").json() == {"sent": True}
    email = api_user(api)  # registering still sends its own email
    assert len(smtp_env.messages_to(email)) == 1
    refused = api.post("/api/auth/verify")
    assert refused.status_code == 429 and "from your network" in refused.json()["error"]
    assert len(smtp_env.messages_to(email)) == 1
