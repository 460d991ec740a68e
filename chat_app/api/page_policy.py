"""The Content-Security-Policy every page is served with.

What the page may load: images only from us, `blob:` (a picture being attached) and `data:`, so no
remote image can tell a third party who reads a chat or carry its text away in a URL; scripts only
from our own build; connections only to us (the event websocket included); never embedded in
another site's frame.

What Reflex's compiled pages need, and get no more than:
- Inline scripts in each page (React Router's hydration context, the colour-mode script): allowed
  by their SHA-256, read from the page as it is served, never by 'unsafe-inline'.
- 'unsafe-eval': Reflex runs `rx.call_script` with `eval` (the chat keeps the reader's place so).
- Inline styles (Emotion writes <style> tags, Radix sets style attributes): 'unsafe-inline' for
  styles only.

In production Reflex serves the pages from the same ASGI app as the API (`reflex run --env prod`
is one port since 0.9), so this middleware, wrapping the API, sees every page.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import logging
import re
from collections.abc import Iterable
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_app.settings import get_settings

log = logging.getLogger(__name__)

HEADER = "content-security-policy"
_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC_ATTRIBUTE = re.compile(rb"\bsrc\s*=", re.IGNORECASE)


def inline_script_hashes(html: bytes) -> list[str]:
    """The CSP source of each inline script of a page: 'sha256-…' of its text, as a browser reads it
    (line ends normalised to \\n by the HTML parser)."""
    hashes: set[str] = set()
    for attributes, text in _INLINE_SCRIPT.findall(html):
        if _SRC_ATTRIBUTE.search(attributes):
            continue
        normalised = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        digest = base64.b64encode(hashlib.sha256(normalised).digest()).decode()
        hashes.add(f"'sha256-{digest}'")
    return sorted(hashes)


def websocket_origin(origin: str) -> str:
    """ws://host for http://host, wss://host for https://host."""
    return "ws" + origin.removeprefix("http")


def content_security_policy(script_sources: Iterable[str]) -> str:
    """The policy of a page whose inline scripts have these sources (hashes)."""
    # CSP has no syntax for an IPv6 literal (browsers drop `http://[::1]:3000` with an error);
    # 'self' already covers a page opened at one, its websocket included.
    ours = [o for o in get_settings().allowed_origins if "://[" not in o]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'", *script_sources],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "blob:", "data:"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *ours, *(websocket_origin(o) for o in ours)],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _readable(body: bytes, encoding: str) -> bytes | None:
    """The page's text; None when it is compressed in a way we do not read."""
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    return None


def _is_page(message: Message) -> bool:
    headers = Headers(raw=message["headers"])
    # A 304 keeps the policy of the page the browser has: a new header would replace it.
    return (
        message["status"] != 304
        and headers.get("content-type", "").startswith("text/html")
        and HEADER not in headers
    )


def _asks_for_a_page(scope: Scope) -> bool:
    return scope["method"] in ("GET", "HEAD") and "text/html" in Headers(scope=scope).get("accept", "")


def _gzip_or_nothing(scope: Scope) -> Scope:
    """A page request that allows gzip at most, so the page comes back in a form we can read."""
    accepted = Headers(scope=scope).get("accept-encoding", "")
    headers = [(name, value) for name, value in scope["headers"] if name.lower() != b"accept-encoding"]
    if "gzip" in accepted:
        headers.append((b"accept-encoding", b"gzip"))
    return {**scope, "headers": headers}


class PagePolicy:
    """ASGI middleware: each HTML page leaves with the policy naming its own inline scripts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _asks_for_a_page(scope):
            scope = _gzip_or_nothing(scope)
        start: Message | None = None
        parts: list[bytes] = []

        async def send_with_policy(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and _is_page(message):
                start = message  # held until the whole page is here
                return
            if start is None:
                await send(message)
            elif message["type"] == "http.response.pathsend":  # the server sends the file itself
                page = await asyncio.to_thread(Path(message["path"]).read_bytes)
                await send(_with_policy(start, page))
                await send(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body = b"".join(parts)
                    await send(_with_policy(start, body))
                    await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, send_with_policy)


def _with_policy(start: Message, body: bytes) -> Message:
    """The held response start, with the policy of the page that follows it."""
    headers = MutableHeaders(raw=list(start["headers"]))
    headers[HEADER] = _policy_for(body, headers.get("content-encoding", ""))
    return {**start, "headers": headers.raw}


def _policy_for(body: bytes, encoding: str) -> str:
    page = _readable(body, encoding.strip().lower())
    if page is None:
        # Not expected (page requests allow gzip at most): the page still works, less strictly.
        log.warning("A page came %s-encoded; its inline scripts are allowed wholesale.", encoding)
        return content_security_policy(["'unsafe-inline'"])
    return content_security_policy(inline_script_hashes(page))
