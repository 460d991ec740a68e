"""Sign-in over HTTP: the cookie, bad input, throttling, sign-out, tampered and expired sessions."""

from datetime import timedelta

import sqlalchemy as sa
from starlette.testclient import TestClient

from chat_app.db import get_engine
from chat_app.models import AuthSession, utcnow
from chat_app.services import accounts
from tests.support.factories import api_user


def test_register_sets_an_httponly_lax_cookie_and_me_answers(api):
    email = api_user(api)
    cookie = api.cookies.get("chat_session")
    assert cookie
    me = api.get("/api/me")
    assert me.status_code == 200 and me.json()["email"] == email


def test_the_cookie_flags(api):
    response = api.post("/api/auth/register", json={"email": "flags@example.com", "password": "long enough"})
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header


def test_form_posts_redirect_back_with_an_error_code_and_keep_the_email(api):
    response = api.post(
        "/api/auth/register",
        data={"email": "bad", "password": "long enough", "next": "/chat/x"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/register?error=email")
    assert "next=%2Fchat%2Fx" in response.headers["location"]
    ok = api.post(
        "/api/auth/register",
        data={"email": "form@example.com", "password": "long enough", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # never an open redirect


def test_bad_registrations_are_refused_and_create_nothing(api):
    api_user(api, "taken@example.com")
    api.cookies.clear()
    cases = [
        ({"email": "taken@example.com", "password": "long enough"}, "exists"),
        ({"email": "TAKEN@example.com", "password": "long enough"}, "exists"),
        ({"email": "nope", "password": "long enough"}, "email"),
        ({"email": "short@example.com", "password": "short"}, "password"),
    ]
    for body, code in cases:
        response = api.post("/api/auth/register", json=body)
        assert response.status_code == 400 and response.json()["code"] == code
        assert "chat_session" not in response.headers.get("set-cookie", "")
    assert (
        api.post(
            "/api/auth/register", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert api.get("/api/me").status_code == 401


def test_wrong_credentials_then_throttling(api):
    api_user(api, "throttle@example.com")
    api.cookies.clear()
    for _ in range(accounts.FREE_ATTEMPTS):
        bad = api.post("/api/auth/login", json={"email": "throttle@example.com", "password": "not it at all"})
        assert bad.status_code == 400 and bad.json()["error"] == "Wrong email or password."
    slowed = api.post("/api/auth/login", json={"email": "throttle@example.com", "password": "correct horse"})
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) > 0


def test_cross_site_posts_are_refused(api):
    response = api.post(
        "/api/auth/login",
        json={"email": "a@example.com", "password": "whatever1"},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_sign_out_revokes_the_session_on_the_server(api):
    api_user(api)
    token = api.cookies.get("chat_session")
    assert api.post("/api/auth/logout", headers={"accept": "application/json"}).status_code == 200
    api.cookies.set("chat_session", token)  # a copy of the old cookie is worthless now
    assert api.get("/api/me").status_code == 401


def test_tampered_and_expired_cookies_are_refused(api):
    api_user(api)
    token = api.cookies.get("chat_session")
    api.cookies.set("chat_session", token[:-2] + "xx")
    assert api.get("/api/me").status_code == 401
    api.cookies.set("chat_session", token)
    assert api.get("/api/me").status_code == 200
    with get_engine().begin() as conn:
        conn.execute(sa.update(AuthSession).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert api.get("/api/me").status_code == 401


def test_my_sessions_are_listed_and_one_can_be_ended(api):
    email = api_user(api)
    with TestClient(api.app, base_url="http://testserver", headers={"user-agent": "curl/8.5.0"}) as phone:
        assert (
            phone.post("/api/auth/login", json={"email": email, "password": "correct horse"}).status_code
            == 200
        )
        listed = api.get("/api/auth/sessions").json()["sessions"]
        assert sorted(s["is_current"] for s in listed) == [False, True]
        other = next(s for s in listed if not s["is_current"])
        assert (other["device"], other["client_address"]) == ("curl/8.5.0", "testclient")
        assert api.delete(f"/api/auth/sessions/{other['id']}").status_code == 204
        assert phone.get("/api/me").status_code == 401
        assert api.delete(f"/api/auth/sessions/{other['id']}").status_code == 404  # ended already
    mine = api.get("/api/auth/sessions").json()["sessions"][0]["id"]
    with TestClient(api.app, base_url="http://testserver") as stranger:
        api_user(stranger)
        assert stranger.delete(f"/api/auth/sessions/{mine}").status_code == 404  # not theirs to end
    assert api.get("/api/me").status_code == 200
    api.cookies.clear()
    assert api.get("/api/auth/sessions").status_code == 401


def test_changing_the_password_over_http(api):
    email = api_user(api)
    wrong = api.post(
        "/api/auth/password", json={"current_password": "a guess", "new_password": "brand new one"}
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "current_password"
    short = api.post(
        "/api/auth/password", json={"current_password": "correct horse", "new_password": "short"}
    )
    assert short.status_code == 400 and short.json()["code"] == "password"
    done = api.post(
        "/api/auth/password", json={"current_password": "correct horse", "new_password": "brand new one"}
    )
    assert done.status_code == 200 and done.json() == {"ok": True, "ended_sessions": 0}
    api.cookies.clear()
    assert api.post("/api/auth/login", json={"email": email, "password": "correct horse"}).status_code == 400
    assert api.post("/api/auth/login", json={"email": email, "password": "brand new one"}).status_code == 200


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(app_settings, monkeypatch):
    from chat_app import settings
    from chat_app.api.app import make_api

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8")
    monkeypatch.setenv("SIGN_IN_FAILURES_PER_IP", "2")
    settings.get_settings.cache_clear()
    with TestClient(make_api(), base_url="http://testserver", client=("10.0.0.2", 40000)) as proxy:

        def attempt(client: str) -> int:
            body = {"email": f"x-{client}@example.com", "password": "wrong password"}
            return proxy.post("/api/auth/login", json=body, headers={"x-forwarded-for": client}).status_code

        assert [attempt("203.0.113.9") for _ in range(3)] == [400, 400, 429]
        assert attempt("198.51.100.1") == 400
