"""Which worker process this is, and which workers are alive.

A reply in flight records the run that produces it (`Message.runner`: "<worker>#<run>"). When its
worker is gone (killed, crashed, its machine lost), any other worker ends the reply as
interrupted. Liveness is a heartbeat key in Redis, renewed by a thread so that a busy event loop
never looks dead; without Redis there is one process, and only this one is alive.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from typing import Protocol, cast

log = logging.getLogger(__name__)

BEAT_EVERY = 1.0  # seconds between heartbeats
BEAT_TTL = 3  # seconds without a heartbeat after which a worker counts as gone

_identity: tuple[int, str] | None = None


def worker_id() -> str:
    """This process's id; a forked worker gets its own (the supervisor imports the app first)."""
    global _identity
    if _identity is None or _identity[0] != os.getpid():
        _identity = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")
    return _identity[1]


def new_run() -> str:
    """A fresh runner value for a reply this process is about to produce."""
    return f"{worker_id()}#{secrets.token_hex(4)}"


def worker_of(runner: str) -> str:
    return runner.partition("#")[0]


class Liveness(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def alive(self, workers: set[str]) -> set[str]:
        """Which of these workers are alive (blocking: call it off the event loop)."""
        ...


class LocalLiveness:
    """One process: only this one is alive."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def alive(self, workers: set[str]) -> set[str]:
        return workers & {worker_id()}


class RedisLiveness:
    """A heartbeat key per worker, renewed every BEAT_EVERY seconds by a thread."""

    def __init__(self, url: str, *, prefix: str) -> None:
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        self._redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=5,
            client_name=f"{prefix}:liveness",
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 5),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
        self._prefix = prefix
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def _key(self, worker: str) -> str:
        return f"{self._prefix}:worker:{worker}"

    def start(self) -> None:
        """Beat at once and then every BEAT_EVERY seconds, from a thread (never on the event loop)."""
        self._thread = threading.Thread(target=self._beat_forever, name="worker-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        try:
            self._redis.set(self._key(worker_id()), "1", ex=BEAT_TTL)
        except Exception:
            log.warning("heartbeat failed", exc_info=True)

    def _beat_forever(self) -> None:
        self._beat()
        while not self._stopped.wait(BEAT_EVERY):
            self._beat()

    def stop(self) -> None:
        """Stop beating and say so at once: this worker's replies have all ended."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self._redis.delete(self._key(worker_id()))
        except Exception:
            pass
        self._redis.close()

    def alive(self, workers: set[str]) -> set[str]:
        ordered = sorted(workers)
        if not ordered:
            return set()
        found = cast(list[bytes | None], self._redis.mget([self._key(w) for w in ordered]))  # the sync client
        return {w for w, beat in zip(ordered, found, strict=True) if beat is not None}
