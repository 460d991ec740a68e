"""Python's garbage collector, set for a server that streams many replies at once.

Each streamed chunk is a handful of objects that LiteLLM keeps until its reply ends, so under load
thousands of them live a few seconds each. With Python's thresholds (700, 10, 10) they are
collected young, survive, and reach the oldest generation, whose collections walk every object of
the process: under 200 replies at once, 13 of them took 3.3 s of a worker's 16 s of CPU.
Collecting young objects every 50,000 allocations instead lets most chunks die before they are
looked at, and the objects the server starts with (modules, LiteLLM's price map, the compiled
app) are frozen out of every later collection. PYTHON_GC_THRESHOLD sets other thresholds.

Only a serving process does this (the app's lifespan): a test process keeps Python's defaults.
"""

from __future__ import annotations

import asyncio
import gc
import logging

from chat_app.services.litellm_loader import load_litellm
from chat_app.settings import get_settings

log = logging.getLogger(__name__)


async def settle_for_serving() -> None:
    """Load what every reply needs, freeze what is loaded, and set the thresholds."""
    await asyncio.to_thread(load_litellm)  # else the first reply loads it, and it is never frozen
    settle(get_settings().gc_threshold)


def settle(threshold: tuple[int, int, int]) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold)
    log.info("garbage collector: %s objects frozen, thresholds %s", gc.get_freeze_count(), threshold)
