"""The page policy middleware: which responses get a policy, and the hashes it names."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from chat_app import settings
from chat_app.api.page_policy import PagePolicy, inline_script_hashes


def _sha256(text: bytes) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text).digest()).decode()}'"


def test_each_inline_script_is_hashed_as_the_browser_reads_it():
    page = (
        b"<script>one()</script><SCRIPT type='module'>\r\ntwo()\r\n</SCRIPT >"
        b'<script src="/app.js"></script><script async src=/other.js>ignored()</script>'
        b"<script>one()</script>"
    )
    assert inline_script_hashes(page) == sorted([_sha256(b"one()"), _sha256(b"\ntwo()\n")])
    assert inline_script_hashes(b"<p>no scripts</p>") == []


def _echo_accept_encoding(request: Request) -> Response:
    return HTMLResponse(f"<script>{request.headers.get('accept-encoding', '')!r}</script>")


def _app(*routes: Route) -> TestClient:
    return TestClient(PagePolicy(Starlette(routes=list(routes))), base_url="http://testserver")


@pytest.fixture
def client(monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("PUBLIC_URL", "http://testserver")
    monkeypatch.setenv("SECRET_KEY", "unit-test-secret")
    settings.get_settings.cache_clear()
    yield _app(
        Route("/page", _echo_accept_encoding),
        Route("/json", lambda _r: JSONResponse({"ok": True})),
        Route("/cached", lambda _r: Response(status_code=304, headers={"content-type": "text/html"})),
        Route(
            "/own",
            lambda _r: HTMLResponse("<p>file</p>", headers={"content-security-policy": "default-src 'none'"}),
        ),
        Route("/brotli", lambda _r: HTMLResponse(b"\x0b\x02", headers={"content-encoding": "br"})),
    )
    settings.get_settings.cache_clear()


def test_only_pages_get_the_policy_and_a_304_keeps_the_one_the_browser_has(client):
    page = client.get("/page", headers={"accept": "text/html"})
    assert "script-src 'self' 'unsafe-eval' 'sha256-" in page.headers["content-security-policy"]
    assert "content-security-policy" not in client.get("/json").headers
    assert "content-security-policy" not in client.get("/cached").headers
    assert client.get("/own").headers["content-security-policy"] == "default-src 'none'"


def test_a_page_is_asked_for_in_a_form_whose_scripts_can_be_read(client):
    """gzip at most: a brotli or zstd page could not be read for its inline scripts."""
    html = {"accept": "text/html"}
    assert (
        client.get("/page", headers={**html, "accept-encoding": "br, gzip, zstd"}).text
        == "<script>'gzip'</script>"
    )
    assert client.get("/page", headers={**html, "accept-encoding": "br, zstd"}).text == "<script>''</script>"
    # Other requests (scripts, styles, images) keep theirs.
    assert client.get("/page", headers={"accept-encoding": "br"}).text == "<script>'br'</script>"


def test_a_page_it_cannot_read_still_works_with_a_looser_policy(client, caplog):
    with caplog.at_level(logging.WARNING, logger="chat_app.api.page_policy"):
        page = client.get("/brotli")
    assert "script-src 'self' 'unsafe-eval' 'unsafe-inline'" in page.headers["content-security-policy"]
    assert "br-encoded" in caplog.text


async def test_a_page_the_server_sends_from_its_file_gets_the_policy_too(tmp_path, monkeypatch):
    """Granian sends files itself (the ASGI `pathsend` extension): the page is read from the file."""
    monkeypatch.setenv("PUBLIC_URL", "http://testserver")
    monkeypatch.setenv("SECRET_KEY", "unit-test-secret")
    settings.get_settings.cache_clear()
    page = tmp_path / "index.html"
    page.write_bytes(b"<script>hydrate()</script>")
    app = PagePolicy(Starlette(routes=[Route("/", lambda _r: FileResponse(page, media_type="text/html"))]))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"accept", b"text/html")],
        "extensions": {"http.response.pathsend": {}},
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    settings.get_settings.cache_clear()
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    policy = dict(sent[0]["headers"])[b"content-security-policy"].decode()
    assert _sha256(b"hydrate()") in policy
