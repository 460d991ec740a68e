"""Waiting for a server-owned reply (or generation) job in tests, and hearing its live events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chat_app.services import replies, runtime


async def wait_until_done(message_id, timeout: float = 20.0) -> None:
    """Return once the job of this reply has ended; fail the test if it runs past `timeout`."""
    for _ in range(int(timeout * 20)):
        if not replies.is_running(str(message_id)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the reply job did not end")


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
