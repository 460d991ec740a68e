"""The live channel, in-process and on a real Redis: order, replay, coalescing, several workers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis

from chat_app.services.live import POOL_SIZE, WINDOW, Channel, LocalLog, RedisLog


@asynccontextmanager
async def open_channel(log) -> AsyncIterator[Channel]:
    channel = Channel(log)
    channel.start()
    try:
        yield channel
    finally:
        await channel.close()


@pytest.fixture(params=["local", "redis"])
def make_log(request):
    """A log of this process, or of a worker on the shared Redis."""
    if request.param == "local":
        return LocalLog
    url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    return lambda: RedisLog(url, prefix=prefix, worker="a", block_ms=2000)


def delta(message_id: str, at: int, text: str) -> dict:
    return {"type": "delta", "message_id": message_id, "at": at, "text": text}


async def gather(subscription, until, timeout: float = 5.0) -> list[dict]:
    heard: list[dict] = []
    deadline = time.monotonic() + timeout
    while not until(heard):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting; heard {heard}")
        heard.extend(await subscription.next_batch(timeout=0.2))
    return heard


def ended(heard: list[dict]) -> bool:
    return any(e["type"] == "end" for e in heard)


def text_of(heard: list[dict]) -> str:
    text = ""
    for e in heard:
        if e["type"] == "delta":
            assert e["at"] == len(text), "deltas arrive in order, each once"
            text += e["text"]
    return text


async def test_a_follower_hears_a_reply_in_order_with_deltas_merged(make_log):
    async with open_channel(make_log()) as channel, channel.follow("chat-1") as subscription:
        channel.publish("chat-1", {"type": "start", "message_id": "m", "kind": "text"})
        text = ""
        for i in range(40):
            channel.publish("chat-1", delta("m", len(text), f" t{i}"))
            text += f" t{i}"
        channel.publish("chat-1", {"type": "end", "message_id": "m", "status": "complete", "error": None})
        heard = await gather(subscription, ended)
    assert [e["type"] for e in heard][0] == "start" and heard[-1]["type"] == "end"
    assert text_of(heard) == text
    assert len([e for e in heard if e["type"] == "delta"]) <= 3  # 40 tokens published at once: merged


async def test_the_first_delta_goes_at_once_and_then_at_most_one_publication_per_window(make_log):
    async with open_channel(make_log()) as channel, channel.follow("chat-2") as subscription:
        started = time.monotonic()
        channel.publish("chat-2", delta("m", 0, "first"))
        first = await subscription.next_batch(timeout=2)
        assert first and first[0]["text"] == "first"
        assert time.monotonic() - started < WINDOW
        text, heard = "first", list(first)
        stop = time.monotonic() + 0.6
        while time.monotonic() < stop:  # a token every 5 ms for 0.6 s
            channel.publish("chat-2", delta("m", len(text), "x"))
            text += "x"
            heard.extend(await subscription.next_batch(timeout=0.005))
        channel.publish("chat-2", {"type": "end", "message_id": "m", "status": "complete", "error": None})
        heard += await gather(subscription, ended)
    assert text_of(heard) == text
    publications = len([e for e in heard if e["type"] == "delta"])
    assert publications <= 0.6 / WINDOW + 3, publications


async def test_a_view_that_opens_mid_reply_replays_then_continues_with_nothing_lost(make_log):
    async with open_channel(make_log()) as channel:
        text = ""

        async def produce() -> None:
            nonlocal text
            channel.publish("chat-3", {"type": "start", "message_id": "m", "kind": "text"})
            for i in range(300):
                channel.publish("chat-3", delta("m", len(text), f"<{i}>"))
                text += f"<{i}>"
                await asyncio.sleep(0.002)
            channel.publish("chat-3", {"type": "end", "message_id": "m", "status": "complete", "error": None})

        producer = asyncio.get_running_loop().create_task(produce())
        await asyncio.sleep(0.25)  # the view opens while the reply is being written
        async with channel.follow("chat-3") as subscription:
            heard = await gather(subscription, ended)
        await producer
    assert heard[0]["type"] == "start" and heard[0]["replayed"]
    assert any(not e.get("replayed") for e in heard), "and then it follows live"
    assert text_of(heard) == text


async def test_another_worker_hears_the_reply_and_carries_stop_requests(redis_url, redis_prefix):
    stops: list[dict] = []
    a_log, b_log = (RedisLog(redis_url, prefix=redis_prefix, worker=w, block_ms=2000) for w in "ab")
    async with open_channel(a_log) as a, open_channel(b_log) as b:
        a.on_control = stops.append
        async with b.follow("chat-4") as on_b:
            a.publish("chat-4", {"type": "start", "message_id": "m", "kind": "text"})
            a.publish("chat-4", delta("m", 0, "hello"))
            a.publish("chat-4", {"type": "end", "message_id": "m", "status": "complete", "error": None})
            heard = await gather(on_b, ended)
        assert text_of(heard) == "hello"
        await b.send_control({"type": "stop", "message_id": "m"})
        for _ in range(100):
            if stops:
                break
            await asyncio.sleep(0.02)
    assert stops == [{"type": "stop", "message_id": "m"}]


async def test_followers_of_other_chats_hear_nothing_of_this_one(make_log):
    async with (
        open_channel(make_log()) as channel,
        channel.follow("chat-5") as mine,
        channel.follow("chat-6") as other,
    ):
        channel.publish("chat-5", {"type": "end", "message_id": "m", "status": "complete", "error": None})
        await gather(mine, ended)
        assert await other.next_batch(timeout=0.3) == []


async def test_one_reader_per_worker_however_many_views_follow(redis_url, redis_prefix):
    """Views share their worker's reader and a small pool: Redis never sees one connection per view."""
    client = redis.Redis.from_url(redis_url)

    def ours() -> int:
        return sum(1 for c in client.client_list() if c.get("name", "").startswith(redis_prefix))

    log = RedisLog(redis_url, prefix=redis_prefix, worker="w", block_ms=2000)
    async with open_channel(log) as channel, channel.follow("chat-0") as first:
        channel.publish("chat-0", delta("m", 0, "x"))
        await gather(first, lambda heard: heard)
        baseline = ours()
        followers = [channel.follow(f"chat-{i}") for i in range(1, 51)]
        subscriptions = [await f.__aenter__() for f in followers]
        for i in range(1, 51):
            channel.publish(f"chat-{i}", delta("m", 0, f"to {i}"))
        for i, subscription in enumerate(subscriptions, start=1):
            heard = await gather(subscription, lambda heard: heard)
            assert heard[0]["text"] == f"to {i}"
        assert baseline <= ours() <= POOL_SIZE + 1
        for f in followers:
            await f.__aexit__(None, None, None)
    client.close()


async def test_a_chats_log_is_capped_and_expires(redis_url, redis_prefix):
    log = RedisLog(redis_url, prefix=redis_prefix, worker="w", keep=100, linger=30)
    async with open_channel(log) as channel:
        for i in range(600):
            channel.publish("chat-7", {"type": "progress", "message_id": "m", "n": i})
            if i % 50 == 0:
                await channel.flush()
        await channel.flush()
    client = redis.Redis.from_url(redis_url)
    key = f"{redis_prefix}:live:chat-7"
    assert client.xlen(key) < 300  # trimmed (approximately) to the cap
    assert 0 < client.ttl(key) <= 30
    client.close()


async def test_a_reader_that_loses_redis_goes_on_from_where_it_was(redis_url, redis_prefix):
    """Redis restarts or drops the connection: the worker's reader reconnects with its cursors,
    so its views miss nothing, stop requests included."""
    client = redis.Redis.from_url(redis_url)
    stops: list[dict] = []
    log = RedisLog(redis_url, prefix=redis_prefix, worker="w", block_ms=2000)
    async with open_channel(log) as channel, channel.follow("chat-8") as subscription:
        channel.on_control = stops.append
        channel.publish("chat-8", delta("m", 0, "before "))
        first = await gather(subscription, lambda heard: heard)
        client.client_kill_filter(_type="normal", skipme=True)  # every connection of ours goes
        channel.publish("chat-8", delta("m", 7, "after"))
        await channel.send_control({"type": "stop", "message_id": "m"})
        channel.publish("chat-8", {"type": "end", "message_id": "m", "status": "complete", "error": None})
        heard = first + await gather(subscription, ended, timeout=10)
        for _ in range(100):
            if stops:
                break
            await asyncio.sleep(0.05)
    client.close()
    assert text_of(heard) == "before after" and heard[-1]["type"] == "end"
    assert stops == [{"type": "stop", "message_id": "m"}]
