"""Sign-in through an OpenID Connect provider over HTTP (oidc-provider-mock, no browser): back to
the page that asked, never to another site, refused without a verified email."""

from __future__ import annotations

from tests.support.oidc import oidc_sign_in


def test_a_verified_email_signs_in_and_returns_to_the_page_that_asked(sso, oidc_provider):
    done = oidc_sign_in(sso, oidc_provider, "/chats/1?x=y", email_verified=True)
    assert done.status_code == 303 and done.headers["location"] == "/chats/1?x=y"
    assert sso.get("/api/me").status_code == 200


def test_next_never_leaves_the_site(sso, oidc_provider):
    done = oidc_sign_in(sso, oidc_provider, "//evil.example/", email_verified=True)
    assert done.status_code == 303 and done.headers["location"] == "/"


def test_an_unverified_email_is_refused(sso, oidc_provider):
    done = oidc_sign_in(sso, oidc_provider, "/chats/1", email_verified=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/login?error=unverified&next=%2Fchats%2F1"
    assert sso.get("/api/me").status_code == 401


def test_an_unknown_provider_goes_back_to_sign_in(sso):
    for step in ("login", "callback"):
        answer = sso.get(f"/api/auth/oidc/nobody/{step}", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith(
            "/login?error=oidc_unknown"
        )
