"""Hearing a chat's live events in tests, as a view does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chat_app.services import runtime


@asynccontextmanager
async def live_events(chat_id: str) -> AsyncIterator[list[dict]]:
    """Follow a chat's live channel like a view does; the list fills as events arrive."""
    heard: list[dict] = []
    async with runtime.current().channel.follow(chat_id) as subscription:

        async def listen() -> None:
            while True:
                heard.extend(await subscription.next_batch(timeout=1.0))

        listener = asyncio.get_running_loop().create_task(listen())
        try:
            yield heard
        finally:
            await runtime.current().channel.flush()
            await asyncio.sleep(0)
            listener.cancel()
            heard.extend(await subscription.next_batch(timeout=0))
