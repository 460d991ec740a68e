"""Every HTTP request gets an id (the proxy's X-Request-ID when it sent a sane one), which the
response carries back and every log line written while serving it names (chat_app/logs.py), with
its user once known; each API request (`/api/…`, `/v1/…`) ends with one log line: method, route, status and duration. The route is the pattern
(`/api/shared/{token}`), never the path: some paths hold a secret link."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_app.logs import REQUEST

log = logging.getLogger("chat_app.requests")
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            presented = value.decode("latin-1")
            if _SANE_ID.fullmatch(presented):
                return presented
    return uuid.uuid4().hex


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = REQUEST.set({"request_id": request_id})
        started, status = time.monotonic(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["path"].startswith(("/api/", "/v1/")):
                route = scope.get("route")
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": getattr(route, "path", "(no route)"),
                        "status": status,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    },
                )
            REQUEST.reset(token)
