"""Waiting for a server-owned reply (or generation) job in tests."""

from __future__ import annotations

import asyncio

from chat_app.services import replies


async def wait_until_done(message_id, timeout: float = 20.0) -> None:
    """Return once the job of this reply has ended; fail the test if it runs past `timeout`."""
    for _ in range(int(timeout * 20)):
        if not replies.is_running(str(message_id)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the reply job did not end")
