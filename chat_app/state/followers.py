"""The views following their chat's live channel in this worker, by tab.

A Send (or Regenerate) from a view whose follower still runs here leaves it to that follower:
starting another would cost the reply's first token a trip to the browser and back and a read of
the database before it could be shown. A tab's events and the followers they start run on the
worker holding its socket, so a tab that reconnects elsewhere finds none there and starts one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Follower:
    generation: int  # the view's follow generation it serves: a newer one replaces it
    heard: float  # event-loop time it last heard from the chat, or was told a reply is coming


_running: dict[str, Follower] = {}


@contextmanager
def running(tab: str, generation: int, now: float) -> Iterator[Follower]:
    """Register the tab's follower while it runs (its record goes as it ends, however it ends)."""
    follower = Follower(generation, now)
    _running[tab] = follower
    try:
        yield follower
    finally:
        if _running.get(tab) is follower:
            del _running[tab]


def keep(tab: str, generation: int, now: float) -> bool:
    """Whether the tab's follower of `generation` runs here. If it does, it stays on as if it had
    just heard from the chat, so it cannot end idle before the reply it is told of starts."""
    follower = _running.get(tab)
    if follower is None or follower.generation != generation:
        return False
    follower.heard = now
    return True
