"""Rate limits: how many times something may happen per key (an address, a client, a person) in a
window of time. Counted in Redis when it is configured, so every worker and machine shares the
count, else in this process (the embedded default runs one process).

A limit is checked and counted in one step (`take`), so parallel requests cannot all slip under it.
Things that last (a call through the API, streaming) are held as slots (`start`, `finish`), each
until it is given back or its time runs out, so a process that dies holding one frees it anyway.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, cast

from chat_app.services.errors import TooManyAttempts
from chat_app.settings import get_settings


@dataclass(frozen=True)
class Limit:
    """At most `count` times per `per` seconds, for one key."""

    name: str  # stable, short: part of the counter's key
    count: int
    per: float
    refusal: str  # the sentence people read, before "Try again in N seconds."


@dataclass(frozen=True)
class Usage:
    used: int
    left: int
    resets_in: int  # seconds until the window starts over


class Counters(Protocol):
    def add(self, key: str, window: float, amount: int) -> tuple[int, float]:
        """Add `amount` to the key's count in its current window; (count now, seconds left in it)."""
        ...

    def peek(self, key: str, window: float) -> tuple[int, float]: ...

    def clear(self) -> None: ...


class LocalCounters:
    """Fixed windows in this process's memory; expired windows are dropped as new ones start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, count)

    def add(self, key: str, window: float, amount: int) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            ends, count = self._windows.get(key, (0.0, 0))
            if ends <= now:
                ends, count = now + window, 0
                if len(self._windows) > 100_000:  # keep memory bounded under a flood of keys
                    self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            count += amount
            self._windows[key] = (ends, count)
            return count, ends - now

    def peek(self, key: str, window: float) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            ends, count = self._windows.get(key, (0.0, 0))
        return (count, ends - now) if ends > now else (0, window)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


class RedisCounters:
    """Fixed windows in Redis: INCRBY and the window's expiry in one round trip."""

    def __init__(self, url: str, *, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}:limit:{key}"

    def add(self, key: str, window: float, amount: int) -> tuple[int, float]:
        pipe = self._redis.pipeline(transaction=True)
        pipe.incrby(self._key(key), amount)
        pipe.pexpire(self._key(key), math.ceil(window * 1000), nx=True)  # only a new window sets it
        pipe.pttl(self._key(key))
        count, _, ttl = cast(list[int], pipe.execute())
        return count, max(ttl, 0) / 1000

    def peek(self, key: str, window: float) -> tuple[int, float]:
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(self._key(key))
        pipe.pttl(self._key(key))
        count, ttl = cast(list, pipe.execute())
        return (int(count), max(ttl, 0) / 1000) if count is not None else (0, window)

    def clear(self) -> None:
        for key in self._redis.scan_iter(self._key("*")):
            self._redis.delete(key)


@lru_cache(maxsize=4)
def _counters_for(redis_url: str | None, prefix: str) -> Counters:
    return RedisCounters(redis_url, prefix=prefix) if redis_url else LocalCounters()


def counters() -> Counters:
    settings = get_settings()
    return _counters_for(settings.redis_url, settings.redis_prefix)


def _hashed(name: str, key: str) -> str:
    # Addresses and emails are hashed: the counters never hold them in the clear.
    return f"{name}:{hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]}"


def _key(limit: Limit, key: str) -> str:
    return _hashed(limit.name, key)


def take(limit: Limit, key: str, amount: int = 1) -> Usage:
    """Count one more use for `key`, or raise TooManyAttempts (nothing counted) when over the limit."""
    count, resets_in = counters().add(_key(limit, key), limit.per, amount)
    if count > limit.count:
        counters().add(_key(limit, key), limit.per, -amount)  # a refused attempt does not count
        wait = max(1, math.ceil(resets_in))
        raise TooManyAttempts(f"{limit.refusal} Try again in {_duration(wait)}.", retry_after=wait)
    return Usage(used=count, left=limit.count - count, resets_in=math.ceil(resets_in))


def give_back(limit: Limit, key: str) -> None:
    """Uncount one use: what was counted up front turned out not to be what the limit is about."""
    counters().add(_key(limit, key), limit.per, -1)


def usage(limit: Limit, key: str) -> Usage:
    count, resets_in = counters().peek(_key(limit, key), limit.per)
    return Usage(used=count, left=max(limit.count - count, 0), resets_in=math.ceil(resets_in))


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


# ----- things in progress -------------------------------------------------------------------------


class Slots(Protocol):
    """Things in progress per key, each held until it is given back or its time runs out."""

    def held(self, key: str) -> int: ...

    def hold(self, key: str, slot: str, seconds: float) -> None: ...

    def give_back(self, key: str, slot: str) -> None: ...


class LocalSlots:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, dict[str, float]] = {}  # key -> {slot: when it runs out}

    def held(self, key: str) -> int:
        now = time.monotonic()
        with self._lock:
            slots = self._held.get(key, {})
            for slot in [slot for slot, until in slots.items() if until <= now]:
                del slots[slot]
            return len(slots)

    def hold(self, key: str, slot: str, seconds: float) -> None:
        with self._lock:
            self._held.setdefault(key, {})[slot] = time.monotonic() + seconds

    def give_back(self, key: str, slot: str) -> None:
        with self._lock:
            slots = self._held.get(key, {})
            slots.pop(slot, None)
            if not slots:
                self._held.pop(key, None)


class RedisSlots:
    """A sorted set per key, each slot scored by when it runs out (the clock of the machine that
    took it: machines behind one Redis keep their clocks close enough for minutes-long slots)."""

    def __init__(self, url: str, *, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}:slots:{key}"

    def held(self, key: str) -> int:
        pipe = self._redis.pipeline(transaction=True)
        pipe.zremrangebyscore(self._key(key), "-inf", time.time())
        pipe.zcard(self._key(key))
        return int(cast(list, pipe.execute())[1])

    def hold(self, key: str, slot: str, seconds: float) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.zadd(self._key(key), {slot: time.time() + seconds})
        pipe.expire(self._key(key), math.ceil(seconds))  # slots of one name all last as long
        pipe.execute()

    def give_back(self, key: str, slot: str) -> None:
        self._redis.zrem(self._key(key), slot)


@lru_cache(maxsize=4)
def _slots_for(redis_url: str | None, prefix: str) -> Slots:
    return RedisSlots(redis_url, prefix=prefix) if redis_url else LocalSlots()


def _slots() -> Slots:
    settings = get_settings()
    return _slots_for(settings.redis_url, settings.redis_prefix)


def in_progress(name: str, key: str) -> int:
    """How many `name` things `key` has in progress now."""
    return _slots().held(_hashed(name, key))


def start(name: str, key: str, seconds: float) -> str:
    """One more thing in progress for `key`, at most `seconds` long; its slot, for `finish`.
    Unchecked: the caller decides, under a lock of its own, whether there is room."""
    slot = uuid.uuid4().hex
    _slots().hold(_hashed(name, key), slot, seconds)
    return slot


def finish(name: str, key: str, slot: str) -> None:
    _slots().give_back(_hashed(name, key), slot)


def reset() -> None:
    """Forget the counters of this process (the settings changed, or a test starts afresh)."""
    _counters_for.cache_clear()
    _slots_for.cache_clear()
