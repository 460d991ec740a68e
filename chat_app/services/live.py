"""The chats' live channel: every open view of a chat, on any worker, follows its replies here.

A reply publishes events on its chat's channel: `start`, `delta` (text with its offset `at` in
the reply), `progress` (image/video generations) and `end`. Each chat's channel is a short,
capped log with ordered ids, so a view that opens or reloads mid-reply replays what the log
holds and continues from there. The saved text of a reply is always a prefix of its live text,
so a view joins from the saved text plus the retained deltas, whatever it read first.

Two logs stand behind the same `Channel`: in this process (the default: one process, nothing to
install) or one Redis Stream per chat (when REDIS_URL is set: many workers and machines). With
Redis, each process runs one reader that follows every chat its views follow and fans the events
out to them, plus the control stream that carries stop requests to whichever worker runs a reply.

Publishing is coalesced at the source: a chat's events go out at most every WINDOW seconds (the
first delta of a reply, and start and end, at once), so the log carries O(replies) entries a
second, not O(tokens).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol

log = logging.getLogger(__name__)

Event = dict[str, Any]
EventId = tuple[int, int]  # a Redis stream id "ms-seq"; the in-process log counts in the second part
Entry = tuple[EventId, Event]

WINDOW = 0.05  # seconds between two publications of one chat: at most ~20 a second
KEEP = 2000  # entries a chat's log keeps: over a minute and a half of a streaming reply
LINGER = 120  # seconds a chat's log outlives its last entry
URGENT = frozenset({"start", "end"})  # never held back by the window
POOL_SIZE = 8  # Redis connections a worker publishes and replays with (its reader has its own)

if TYPE_CHECKING:
    from redis.typing import KeyT, StreamIdT


def parse_id(raw: str) -> EventId:
    ms, _, seq = raw.partition("-")
    return int(ms), int(seq or 0)


def format_id(event_id: EventId) -> str:
    return f"{event_id[0]}-{event_id[1]}"


class Subscription:
    """One view's following of one chat: each event once, in order.

    Events from before the subscription (the replay) arrive first, marked `replayed`.
    """

    def __init__(self, chat_id: str) -> None:
        self.chat_id = chat_id
        self._queue: deque[Event] = deque()
        self._ready = asyncio.Event()
        self._last: EventId = (0, 0)
        self._held: list[Entry] | None = []  # live entries that arrive while the replay is read

    def _deliver(self, entries: list[Entry], *, replayed: bool = False) -> None:
        if self._held is not None and not replayed:
            self._held.extend(entries)
            return
        for event_id, event in entries:
            if event_id > self._last:
                self._last = event_id
                self._queue.append({**event, "replayed": True} if replayed else event)
        if self._queue:
            self._ready.set()

    def _replayed(self, entries: list[Entry]) -> None:
        held, self._held = self._held or [], None
        self._deliver(entries, replayed=True)
        self._deliver(held)

    async def next_batch(self, timeout: float) -> list[Event]:
        """Everything that arrived since the last batch; waits up to `timeout` for the first."""
        if not self._queue:
            self._ready.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._ready.wait()
            except TimeoutError:
                return []
        batch = list(self._queue)
        self._queue.clear()
        return batch


class Log(Protocol):
    """Where a channel's entries live (this process, or Redis)."""

    def bind(self, channel: Channel) -> None:
        """The channel that gets what the log delivers."""

    async def append(self, events: dict[str, list[Event]]) -> None:
        """Append each chat's events, in order, in one round trip."""

    async def read(self, chat_id: str) -> list[Entry]:
        """Everything the chat's log retains."""
        ...

    async def send_control(self, command: Event) -> None:
        """Tell every worker (stop requests)."""

    async def run(self) -> None:
        """Deliver what other processes append, until cancelled."""

    def followed_changed(self) -> None:
        """The set of followed chats changed: the reader must look at it again."""

    async def close(self) -> None: ...


class Channel:
    def __init__(self, log_: Log, *, window: float = WINDOW) -> None:
        self._log = log_
        self._window = window
        self._followers: dict[str, set[Subscription]] = {}
        self._pending: dict[str, list[Event]] = {}
        self._next_at: dict[str, float] = {}  # until when each chat waits for the tick
        self._now: set[str] = set()  # chats to send at once
        self._ticking = False  # the flusher will wake at the next tick by itself
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.on_control: Callable[[Event], None] | None = None
        self._clock: Callable[[], float] = time.monotonic  # the loop's clock once started
        log_.bind(self)

    # ----- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._clock = loop.time  # read for every token: looked up once
        self._tasks = [
            loop.create_task(self._flush_forever(), name="live-flush"),
            loop.create_task(self._log.run(), name="live-read"),
        ]

    async def close(self) -> None:
        """Send what is pending, then stop."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.flush()
        await self._log.close()

    # ----- publishing ------------------------------------------------------------------
    def publish(self, chat_id: str, event: Event) -> None:
        """Queue an event for the chat's followers; consecutive deltas of a reply merge.

        A chat quiet for a window (and start, end, a reply's first delta) goes out at once; a busy
        one with the next tick. This runs for every token, so it does O(1) work.
        """
        pending = self._pending.setdefault(chat_id, [])
        last = pending[-1] if pending else None
        if (
            event["type"] == "delta"
            and last is not None
            and last["type"] == "delta"
            and last["message_id"] == event["message_id"]
            and last["at"] + len(last["text"]) == event["at"]
        ):
            last["text"] += event["text"]
        else:
            pending.append(dict(event))
        urgent = event["type"] in URGENT or (event["type"] == "delta" and event["at"] == 0)
        if urgent or self._next_at.get(chat_id, 0.0) <= self._clock():
            self._now.add(chat_id)
            self._wakeup.set()
        elif not self._ticking:
            self._wakeup.set()

    async def flush(self) -> None:
        """Send everything pending now, whatever the window."""
        ready, self._pending = self._pending, {}
        self._now.clear()
        if ready:
            await self._send(ready)

    async def _flush_forever(self) -> None:
        """Send the chats due now at once, the others every WINDOW seconds: each tick's work is the
        chats that published, however many follow."""
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            self._ticking = bool(self._pending)
            self._wakeup.clear()
            try:
                async with asyncio.timeout(max(0.0, next_tick - loop.time()) if self._ticking else None):
                    await self._wakeup.wait()
            except TimeoutError:
                pass
            now = loop.time()
            if now >= next_tick:
                ready, self._pending = self._pending, {}
                self._now.clear()
                next_tick = now + self._window
            else:
                ready = {c: self._pending.pop(c) for c in self._now if c in self._pending}
                self._now.clear()
            if not ready:
                continue
            for chat_id in ready:
                self._next_at[chat_id] = now + self._window
            if len(self._next_at) > 1024:  # forget chats that went quiet
                self._next_at = {c: t for c, t in self._next_at.items() if t > now}
            await self._send(ready)

    async def _send(self, events: dict[str, list[Event]]) -> None:
        try:
            await self._log.append(events)
        except Exception:
            log.exception("could not publish live events for %d chats", len(events))

    # ----- following -------------------------------------------------------------------
    @asynccontextmanager
    async def follow(self, chat_id: str) -> AsyncIterator[Subscription]:
        """Follow a chat: what its log holds first (replayed), then every new event."""
        subscription = Subscription(chat_id)
        self._followers.setdefault(chat_id, set()).add(subscription)  # no gap: new entries are held
        try:
            try:
                retained = await self._log.read(chat_id)
            except Exception:
                log.exception("could not read the live log of chat %s", chat_id)
                retained = []
            self._log.followed_changed()  # the reader goes on from the end of what was read
            subscription._replayed(retained)
            yield subscription
        finally:
            followers = self._followers.get(chat_id)
            if followers is not None:
                followers.discard(subscription)
                if not followers:
                    del self._followers[chat_id]
                    self._log.followed_changed()

    def followed(self) -> list[str]:
        return list(self._followers)

    def follower_count(self) -> int:
        """Views following a chat in this process."""
        return sum(len(followers) for followers in self._followers.values())

    def deliver(self, chat_id: str, entries: list[Entry]) -> None:
        """New entries of a chat's log, for this process's followers."""
        for subscription in tuple(self._followers.get(chat_id, ())):
            subscription._deliver(entries)

    # ----- control ---------------------------------------------------------------------
    async def send_control(self, command: Event) -> None:
        await self._log.send_control(command)

    def control(self, command: Event) -> None:
        if self.on_control is not None:
            try:
                self.on_control(command)
            except Exception:
                log.exception("control command %s failed", command)


class LocalLog:
    """The log in this process's memory: one process, nothing to install."""

    def __init__(self, *, keep: int = KEEP, linger: float = LINGER) -> None:
        self._keep, self._linger = keep, linger
        self._entries: dict[str, deque[Entry]] = {}
        self._touched: dict[str, float] = {}
        self._counter = 0
        self._channel: Channel | None = None

    async def append(self, events: dict[str, list[Event]]) -> None:
        now = asyncio.get_running_loop().time()
        for chat_id, chat_events in events.items():
            entries = []
            for event in chat_events:
                self._counter += 1
                entries.append(((0, self._counter), event))
            self._entries.setdefault(chat_id, deque(maxlen=self._keep)).extend(entries)
            self._touched[chat_id] = now
            if self._channel is not None:
                self._channel.deliver(chat_id, entries)
        self._forget_older_than(now - self._linger)

    def _forget_older_than(self, cutoff: float) -> None:
        for chat_id in [c for c, t in self._touched.items() if t < cutoff]:
            del self._touched[chat_id]
            self._entries.pop(chat_id, None)

    async def read(self, chat_id: str) -> list[Entry]:
        return list(self._entries.get(chat_id, ()))

    async def send_control(self, command: Event) -> None:
        if self._channel is not None:
            self._channel.control(command)

    def bind(self, channel: Channel) -> None:
        self._channel = channel

    async def run(self) -> None:
        pass  # appends are delivered as they happen; nothing to read

    def followed_changed(self) -> None:
        pass

    async def close(self) -> None:
        pass


class RedisLog:
    """One Redis Stream per chat (capped, expiring), one control stream, one reader per process."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        worker: str,
        keep: int = KEEP,
        linger: float = LINGER,
        block_ms: int = 5000,
    ) -> None:
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        name = f"{prefix}:live:{worker}"
        # A dropped connection (Redis restarted, a proxy's idle timeout) is retried on a new one.
        # A retried append may land twice; deltas carry their offsets, so views take them once.
        resilient = {
            "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), 5),
            "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        }
        # A few connections serve every view of this worker: the pool waits rather than grows.
        self._redis = Redis(
            connection_pool=BlockingConnectionPool.from_url(
                url,
                decode_responses=True,
                client_name=name,
                max_connections=POOL_SIZE,
                timeout=10,
                **resilient,
            )
        )
        # The reader blocks on its own connection, so publishing never waits behind it.
        self._reader = Redis.from_url(url, decode_responses=True, client_name=f"{name}:reader", **resilient)
        self._prefix, self._keep, self._linger, self._block_ms = prefix, keep, linger, block_ms
        self._control_key = f"{prefix}:control"
        self._wake_key = f"{prefix}:wake:{worker}"
        self._cursors: dict[str, str] = {}  # chat id -> last id delivered to this process
        self._wake: asyncio.Task | None = None
        self._channel: Channel | None = None

    def bind(self, channel: Channel) -> None:
        self._channel = channel

    def _key(self, chat_id: str) -> str:
        return f"{self._prefix}:live:{chat_id}"

    async def append(self, events: dict[str, list[Event]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for chat_id, chat_events in events.items():
            key = self._key(chat_id)
            for event in chat_events:
                pipe.xadd(
                    key, {"e": json.dumps(event, separators=(",", ":"))}, maxlen=self._keep, approximate=True
                )
            pipe.expire(key, int(self._linger))
        await pipe.execute()

    async def read(self, chat_id: str) -> list[Entry]:
        entries = [(parse_id(i), json.loads(f["e"])) for i, f in await self._redis.xrange(self._key(chat_id))]
        # The reader goes on from here for this chat (unless it already follows it).
        self._cursors.setdefault(chat_id, format_id(entries[-1][0]) if entries else "0-0")
        return entries

    async def send_control(self, command: Event) -> None:
        await self._redis.xadd(self._control_key, {"e": json.dumps(command)}, maxlen=1000, approximate=True)

    def followed_changed(self) -> None:
        if self._wake is None or self._wake.done():
            self._wake = asyncio.get_running_loop().create_task(self._wake_reader())

    async def _wake_reader(self) -> None:
        await asyncio.sleep(0)  # one wake for every follow of this loop iteration
        with suppress(Exception):
            await self._redis.xadd(self._wake_key, {"w": "1"}, maxlen=1, approximate=False)
            await self._redis.expire(self._wake_key, 3600)

    async def _latest(self, key: str) -> str:
        newest = await self._reader.xrevrange(key, count=1)
        return newest[0][0] if newest else "0-0"

    async def run(self) -> None:
        channel = self._channel
        assert channel is not None
        control, wake = self._control_key, self._wake_key
        fixed: dict[str, str] = {}  # kept across reconnections: stop requests sent meanwhile still arrive
        while True:
            try:
                if not fixed:
                    fixed = {control: await self._latest(control), wake: await self._latest(wake)}
                while True:
                    followed = channel.followed()
                    self._cursors = {c: self._cursors[c] for c in followed if c in self._cursors}
                    streams: dict[KeyT, StreamIdT] = {
                        **fixed,
                        **{self._key(c): cursor for c, cursor in self._cursors.items()},
                    }
                    answer = await self._reader.xread(streams, count=500, block=self._block_ms)
                    for key, entries in answer or ():
                        if not entries:
                            continue
                        last = entries[-1][0]
                        if key in fixed:
                            fixed[key] = last
                            if key == control:
                                for _, fields in entries:
                                    channel.control(json.loads(fields["e"]))
                            continue
                        chat_id = key.removeprefix(f"{self._prefix}:live:")
                        if chat_id in self._cursors:
                            self._cursors[chat_id] = last
                        channel.deliver(chat_id, [(parse_id(i), json.loads(f["e"])) for i, f in entries])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live channel lost Redis; retrying", exc_info=True)
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        if self._wake is not None:
            self._wake.cancel()
        await self._redis.aclose()
        await self._reader.aclose()
