"""What each server process runs beside its requests, once per event loop.

The live channel, the batched writer of growing replies, this worker's heartbeat, the reaper
of replies whose worker is gone and the sweeper of uploads never sent. In one process (no REDIS_URL) they live in memory; with Redis
they span every worker and machine. Started by the app's lifespan, or on first use (tests, the
API on its own), and closed by the lifespan, which first lets the replies of this worker end saved.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from chat_app.db import session_scope
from chat_app.services import media, workers
from chat_app.services.batch_writer import BatchWriter
from chat_app.services.live import Channel, LocalLog, RedisLog
from chat_app.settings import get_settings

log = logging.getLogger(__name__)

REAP_EVERY = 1.0  # seconds between two looks for replies whose worker is gone
SWEEP_EVERY = 600.0  # seconds between two sweeps of uploads never sent


@dataclass
class Runtime:
    channel: Channel
    writer: BatchWriter
    liveness: workers.Liveness
    redis_url: str = ""
    # The databases this process's work uses (None: the app's own); the reaper and sweeper watch them.
    engines: set[sa.Engine | None] = field(default_factory=set)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    @property
    def shared(self) -> bool:
        """True when several processes share the work (Redis)."""
        return bool(self.redis_url)

    def start(self) -> None:
        from chat_app.services import replies  # replies uses the runtime: imported when both exist

        self.liveness.start()
        self.channel.on_control = replies.on_control
        self.channel.start()
        self.writer.start()
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(replies.reap_forever(REAP_EVERY), name="reaper"))
        self._tasks.append(loop.create_task(sweep_forever(SWEEP_EVERY), name="unsent-sweeper"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task
        await self.writer.close()
        await self.channel.close()
        await asyncio.to_thread(self.liveness.stop)


async def sweep_forever(every: float) -> None:
    """Each worker removes everyone's uploads never sent, every `every` seconds, in the databases
    its work uses. Workers sweeping at once each delete different rows (see media.sweep_unsent)."""
    here = current()
    while True:
        await asyncio.sleep(every)
        for engine in list(here.engines):
            try:
                await asyncio.to_thread(sweep_unsent_uploads, engine)
            except Exception:
                log.exception("could not sweep uploads never sent")


def sweep_unsent_uploads(engine: sa.Engine | None = None, *, now: datetime | None = None) -> int:
    """One sweep, as of `now`: the rows go in one transaction, their files once it commits."""
    with session_scope(engine) as session:
        return media.sweep_unsent(session=session, now=now)


_runtimes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Runtime] = weakref.WeakKeyDictionary()


def _build() -> Runtime:
    settings = get_settings()
    if settings.redis_url:
        return Runtime(
            channel=Channel(
                RedisLog(settings.redis_url, prefix=settings.redis_prefix, worker=workers.worker_id())
            ),
            writer=BatchWriter(),
            liveness=workers.RedisLiveness(settings.redis_url, prefix=settings.redis_prefix),
            redis_url=settings.redis_url,
        )
    return Runtime(channel=Channel(LocalLog()), writer=BatchWriter(), liveness=workers.LocalLiveness())


def current() -> Runtime:
    """This event loop's runtime, started on first use."""
    loop = asyncio.get_running_loop()
    runtime = _runtimes.get(loop)
    if runtime is None:
        runtime = _runtimes[loop] = _build()
        runtime.start()
    return runtime


async def close_current() -> None:
    """End this loop's replies saved, then stop its runtime (a worker asked to stop)."""
    from chat_app.services import replies

    loop = asyncio.get_running_loop()
    runtime = _runtimes.get(loop)
    if runtime is None:
        return
    await replies.stop_all_here()
    await runtime.close()
    _runtimes.pop(loop, None)


@asynccontextmanager
async def lifespan() -> AsyncIterator[None]:
    """For the app's lifespan: start at once (the reaper ends what a previous run left in flight)."""
    settings = get_settings()
    if not settings.redis_url and settings.granian_workers > 1:
        log.error(
            "GRANIAN_WORKERS=%s without REDIS_URL: each worker would keep its own replies and live "
            "views. Set REDIS_URL to run several workers.",
            settings.granian_workers,
        )
    current().engines.add(None)
    try:
        yield
    finally:
        await close_current()
