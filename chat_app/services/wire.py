"""Watch a provider's raw response bytes for its finish signal.

LiteLLM maps every Gemini chunk without a finishReason to finish "stop", so a Gemini stream
cut short looks complete from above. The bytes on the wire still tell: a finished Gemini
stream carries "finishReason", and a garbled line can be seen for what it is. The transport
here passes the bytes through unchanged and notes both.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx


@dataclass
class FinishWatch:
    marker: bytes
    seen: bool = False  # the finish marker went by
    broken: bool = False  # an SSE data line did not parse as JSON

    @property
    def complete(self) -> bool:
        return self.seen and not self.broken


class _WatchedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, watch: FinishWatch) -> None:
        self._inner, self._watch = inner, watch

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pending = b""
        async for chunk in self._inner:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._check(line)
            yield chunk
        self._check(pending)

    def _check(self, line: bytes) -> None:
        if self._watch.marker in line:
            self._watch.seen = True
        line = line.strip()
        if line.startswith(b"data:") and line[5:].strip() not in (b"", b"[DONE]"):
            try:
                json.loads(line[5:])
            except ValueError:
                self._watch.broken = True

    async def aclose(self) -> None:
        await self._inner.aclose()


class WatchingTransport(httpx.AsyncBaseTransport):
    """One call's view of a shared connection pool; its responses report to `watch`."""

    def __init__(self, pool: httpx.AsyncBaseTransport, watch: FinishWatch) -> None:
        self._pool, self._watch = pool, watch

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._pool.handle_async_request(request)
        if isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _WatchedStream(response.stream, self._watch)
        return response

    async def aclose(self) -> None:
        """The pool outlives one call."""


# One pool per event loop: a connection belongs to the loop that opened it.
_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncHTTPTransport] = (
    weakref.WeakKeyDictionary()
)


def watched_transport(watch: FinishWatch) -> WatchingTransport:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        pool = _pools[loop] = httpx.AsyncHTTPTransport()
    return WatchingTransport(pool, watch)
