"""Attacks on the HTTP surface itself: bodies too large to read, writes from other sites, a cookie
a sibling subdomain could shadow, pages without a Content-Security-Policy.

(A remote image in a reply, fetched by whoever reads the chat, is attacked in the browser:
tests/e2e/test_page_policy.py.)
"""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from reflex.utils.precompressed_staticfiles import PrecompressedStaticFiles
from starlette.testclient import TestClient

from chat_app.api.app import make_api
from tests.support.factories import api_user

MB = 1024 * 1024
CHUNK = 64 * 1024


class Trickle:
    """A request body of `total` bytes, made only as the server pulls it; counts what was pulled."""

    def __init__(self, total: int, byte: bytes = b"a") -> None:
        self.total, self.byte, self.pulled = total, byte, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield self.byte * CHUNK


def _client(cookies: dict[str, str] | None = None) -> httpx.AsyncClient:
    """A client of a fresh app in this event loop, sending bodies only as the app reads them."""
    transport = httpx.ASGITransport(app=make_api())
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies)


def _session_cookie(api: TestClient, app_settings) -> dict[str, str]:
    api_user(api)
    return {app_settings.cookie_name: api.cookies[app_settings.cookie_name]}


# However large the body, the server reads at most its cap (MAX_BODY_KB) and a chunk: far below this.
READ_AT_MOST = 1 * MB
TOO_LARGE = re.compile(r"The request body is larger than the \d+ KB this server accepts\.")


async def test_a_150_mb_json_body_is_refused_without_being_read(api, app_settings):
    json_headers = {"content-type": "application/json"}
    async with _client() as signed_out:
        body = Trickle(150 * MB)
        refused = await signed_out.post("/api/chats", content=body, headers=json_headers)
        assert refused.status_code == 401 and body.pulled == 0

    async with _client(_session_cookie(api, app_settings)) as signed_in:
        # A declared length over the cap: refused before a byte is read.
        body = Trickle(150 * MB)
        declared = {**json_headers, "content-length": str(150 * MB)}
        refused = await signed_in.post("/api/chats", content=body, headers=declared)
        assert refused.status_code == 413 and body.pulled == 0
        assert refused.json()["code"] == "too_large" and TOO_LARGE.fullmatch(refused.json()["error"])
        # No length (chunked), or a length that lies: read up to the cap, and no further.
        body = Trickle(150 * MB)
        refused = await signed_in.post("/api/chats", content=body, headers=json_headers)
        assert refused.status_code == 413 and body.pulled <= READ_AT_MOST
        # Nothing was made of it.
        assert (await signed_in.get("/api/chats")).json() == []


async def test_a_150_mb_sign_in_form_is_refused_without_being_read(app_settings):
    async with _client() as client:
        for path in ("/api/auth/login", "/api/auth/register"):
            body = Trickle(150 * MB)
            form = {"content-type": "application/x-www-form-urlencoded"}
            refused = await client.post(path, content=body, headers=form)
            assert refused.status_code == 413, path
            assert body.pulled <= READ_AT_MOST


async def test_a_sign_in_form_with_a_file_part_is_refused_unread(app_settings):
    """Multipart could carry files (spooled to disk before anyone looked): the sign-in forms take none."""
    async with _client() as client:
        for path in ("/api/auth/login", "/api/auth/register"):
            body = Trickle(150 * MB, byte=b"-")
            multipart = {"content-type": "multipart/form-data; boundary=x"}
            refused = await client.post(path, content=body, headers=multipart)
            assert refused.status_code == 415 and refused.json()["code"] == "content_type"
            assert body.pulled == 0


# Pages of other sites that might post as the person: another site, a sibling subdomain, another
# port of the same host, the same host without TLS, a sandboxed frame.
OTHER_SITES = [
    "http://evil.example",
    "http://sibling.testserver",
    "http://testserver:8080",
    "https://testserver",
    "null",
]


def _writes(chat_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("POST", "/api/chats", {"model_id": "openai/gpt-4o"}),
        ("PATCH", f"/api/chats/{chat_id}", {"title": "renamed by someone else"}),
        ("POST", f"/api/chats/{chat_id}/messages", {"content": "hello"}),
        ("POST", f"/api/chats/{chat_id}/copy", None),
        ("PUT", "/api/keys/openai", {"api_key": "sk-their-own-key-123"}),
        ("POST", "/api/share", {"chat_id": chat_id, "emails": ["attacker@example.com"]}),
        ("PATCH", "/api/share", {"chat_id": chat_id, "is_public": True}),
        ("POST", "/api/share/rotate", {"chat_id": chat_id}),
        ("DELETE", f"/api/chats/{chat_id}", None),
        ("POST", "/api/auth/logout", None),
    ]


def _unchanged(api: TestClient, chat_id: str) -> None:
    chats = api.get("/api/chats").json()
    assert [(c["id"], c["title"]) for c in chats] == [(chat_id, "mine")]
    assert api.get(f"/api/chats/{chat_id}").json()["messages"] == []
    assert not any(key["is_set"] for key in api.get("/api/keys").json())
    share = api.get("/api/share", params={"chat_id": chat_id}).json()
    assert share["invites"] == [] and share["is_public"] is False


@pytest.fixture
def my_chat(api) -> str:
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    assert api.patch(f"/api/chats/{chat_id}", json={"title": "mine"}).status_code == 200
    return chat_id


def test_a_text_plain_json_post_from_another_site_is_refused(api, my_chat):
    """The form a page elsewhere can send without asking first: text/plain, with the cookie."""
    for origin in OTHER_SITES:
        refused = api.post(
            "/api/chats",
            content=b'{"model_id": "openai/gpt-4o"}',
            headers={"content-type": "text/plain", "origin": origin},
        )
        assert refused.status_code == 403, origin
        assert refused.json() == {"error": "Requests from other sites are not allowed.", "code": "origin"}
    # Sent from our own page, text/plain is still not JSON.
    undeclared = api.post(
        "/api/chats",
        content=b'{"model_id": "openai/gpt-4o"}',
        headers={"content-type": "text/plain", "origin": "http://testserver"},
    )
    assert undeclared.status_code == 415 and undeclared.json()["code"] == "content_type"
    _unchanged(api, my_chat)


def test_every_write_with_the_cookie_from_another_site_is_refused(api, my_chat):
    for method, path, body in _writes(my_chat):
        for origin in OTHER_SITES:
            refused = api.request(method, path, json=body, headers={"origin": origin})
            assert refused.status_code == 403, (method, path, origin)
        # A browser that sends Sec-Fetch-Site but no Origin says as much.
        for site in ("cross-site", "same-site"):
            refused = api.request(method, path, json=body, headers={"sec-fetch-site": site})
            assert refused.status_code == 403, (method, path, site)
    files = {"file": ("a.png", b"\x89PNG\r\n\x1a\n", "image/png")}
    assert api.post("/api/upload", files=files, headers={"origin": OTHER_SITES[0]}).status_code == 403
    _unchanged(api, my_chat)
    assert api.get("/api/me").status_code == 200  # not signed out either


def test_a_sign_in_from_another_site_is_refused(api):
    """Login CSRF: no cookie yet, but the person would end up in the attacker's account."""
    for path in ("/api/auth/login", "/api/auth/register"):
        for origin in OTHER_SITES:
            refused = api.post(
                path,
                data={"email": "attacker@example.com", "password": "attacker's password"},
                headers={"origin": origin},
            )
            assert refused.status_code == 403, (path, origin)
            assert "set-cookie" not in refused.headers
        for site in ("cross-site", "same-site"):
            credentials = {"email": "attacker@example.com", "password": "attacker's password"}
            refused = api.post(path, data=credentials, headers={"sec-fetch-site": site})
            assert refused.status_code == 403, (path, site)
            assert "set-cookie" not in refused.headers


def test_writes_from_our_own_pages_and_from_api_clients_still_work(api, my_chat):
    ours = [{"origin": "http://testserver"}, {"sec-fetch-site": "same-origin"}, {}]  # {}: not a browser
    for headers in ours:
        made = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}, headers=headers)
        assert made.status_code == 201, headers
        renamed = api.patch(f"/api/chats/{made.json()['id']}", json={"title": "ok"}, headers=headers)
        assert renamed.status_code == 200, headers
        assert api.delete(f"/api/chats/{made.json()['id']}", headers=headers).status_code == 204


@pytest.fixture
def https_api(app_settings, monkeypatch) -> Iterator[TestClient]:
    from chat_app import settings

    monkeypatch.setenv("PUBLIC_URL", "https://testserver")
    settings.get_settings.cache_clear()
    with TestClient(make_api(), base_url="https://testserver") as client:
        yield client


def test_on_https_the_session_cookie_is_host_prefixed(https_api):
    """A sibling subdomain can set a cookie for the parent domain; it cannot set a `__Host-` one,
    so it can neither plant its own session nor shadow ours."""
    registered = https_api.post(
        "/api/auth/register", json={"email": "host@example.com", "password": "long enough"}
    )
    cookie = registered.headers["set-cookie"]
    assert cookie.startswith("__Host-chat_session=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "path", "httponly", "samesite"} <= attributes and "domain" not in attributes
    assert re.search(r";\s*Path=/(;|$)", cookie)
    assert https_api.get("/api/me").json()["email"] == "host@example.com"
    # A plain `chat_session` cookie (what a sibling could plant) is not the session.
    https_api.cookies.clear()
    https_api.cookies.set("chat_session", "planted")
    assert https_api.get("/api/me").status_code == 401
    # Signing out clears it: a `__Host-` cookie is only replaced by a Secure one.
    https_api.cookies.clear()
    https_api.post("/api/auth/login", json={"email": "host@example.com", "password": "long enough"})
    out = https_api.post("/api/auth/logout", headers={"accept": "application/json"})
    cleared = out.headers["set-cookie"]
    assert cleared.startswith("__Host-chat_session=") and "secure" in cleared.lower()


PAGE = (
    b"<!DOCTYPE html><html><head><script>window.__context = {};</script>"
    b'<script type="module" async="">import "/assets/entry.js";</script>'
    b'<script src="/assets/app.js"></script></head><body><script>$RC("B:1","S:1")</script></body></html>'
)


@pytest.fixture
def pages(app_settings, tmp_path) -> Iterator[TestClient]:
    """The API with pages mounted in it the way Reflex serves its compiled build (gzip sidecars)."""
    (tmp_path / "index.html").write_bytes(PAGE)
    (tmp_path / "index.html.gz").write_bytes(gzip.compress(PAGE))
    api = make_api()
    api.mount("", PrecompressedStaticFiles(directory=tmp_path, html=True, encodings=["gzip"]))
    with TestClient(api, base_url="http://testserver") as client:
        yield client


def test_a_page_carries_a_policy_without_remote_images_or_foreign_scripts(pages):
    for encoding in ("identity", "gzip, deflate, br, zstd"):
        page = pages.get("/", headers={"accept": "text/html", "accept-encoding": encoding})
        assert page.status_code == 200 and page.content == PAGE
        policy = dict(
            (d.split()[0], d.split()[1:]) for d in page.headers["content-security-policy"].split("; ")
        )
        assert policy["img-src"] == ["'self'", "blob:", "data:"]
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        scripts = policy["script-src"]
        assert "'unsafe-inline'" not in scripts and not any("http" in s or s == "*" for s in scripts)
        assert len([s for s in scripts if s.startswith("'sha256-")]) == 3  # the page's own three
        assert all(
            "http" not in s or s in ("http://testserver", "ws://testserver") for s in policy["connect-src"]
        )
