"""The one rule on where a write may come from: a browser's unsafe request (POST, PUT, PATCH,
DELETE) must come from one of our own pages, whatever it carries.

A browser says where a request comes from: it sends `Origin` on every cross-site POST (and on
every fetch but GET and HEAD) and, in current browsers, `Sec-Fetch-Site`. A page on another site,
a sibling subdomain or another port of localhost can post `text/plain` or a form to us without
asking first, with the person's cookie attached; refused here, before any route reads a byte.
The sign-in forms are covered too (no cookie yet, but a cross-site sign-in would put the person
in someone else's account). A client that is not a browser sends neither header and is taken at
its word: it only has the cookies it was given.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from chat_app.api.common import RequestRefused, error_response
from chat_app.settings import get_settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# `none`: the person typed or bookmarked the address; nothing else asked for it.
_OUR_FETCH_SITES = frozenset({"same-origin", "none"})


def own_origins(request: Request) -> set[str]:
    """The origins our pages are served from: ALLOWED_ORIGINS (PUBLIC_URL by default), and the
    address this request was sent to."""
    return set(get_settings().allowed_origins) | {f"{request.url.scheme}://{request.url.netloc}"}


def sent_from_our_pages(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is not None:
        return origin in own_origins(request)  # "null" (a sandboxed or privacy-hidden page) is not ours
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() in _OUR_FETCH_SITES
    return True  # not a browser


class CrossSiteWritesRefused:
    """ASGI middleware applying the rule to every request the app serves (API and pages)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            request = Request(scope)
            if not sent_from_our_pages(request):
                refusal = RequestRefused(
                    "Requests from other sites are not allowed.", status=403, code="origin"
                )
                await error_response(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)
