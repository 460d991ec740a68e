"""The chats' live channel: every open view of a chat follows its replies here.

In-process for now; a cross-worker channel (e.g. Redis pub/sub) can replace it behind
the same two calls.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Event = dict[str, Any]


class LiveChannel:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)

    def publish(self, chat_id: str, event: Event) -> None:
        for queue in tuple(self._subscribers.get(chat_id, ())):
            queue.put_nowait(event)

    @contextmanager
    def subscribe(self, chat_id: str) -> Iterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._subscribers[chat_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[chat_id].discard(queue)
            if not self._subscribers[chat_id]:
                self._subscribers.pop(chat_id, None)


channel = LiveChannel()


async def next_batch(queue: asyncio.Queue[Event], *, window: float, timeout: float) -> list[Event]:
    """Wait up to `timeout` for an event, then gather whatever arrives within `window`.

    Coalescing keeps a view to at most 1/window updates a second, however fast tokens come.
    """
    try:
        first = await asyncio.wait_for(queue.get(), timeout=timeout)
    except TimeoutError:
        return []
    batch = [first]
    loop = asyncio.get_running_loop()
    until = loop.time() + window
    while (left := until - loop.time()) > 0:
        try:
            batch.append(await asyncio.wait_for(queue.get(), timeout=left))
        except TimeoutError:
            break
        if batch[-1].get("type") == "end":
            break
    return batch
