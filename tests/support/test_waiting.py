"""The waiting helpers: they return as soon as the reply has ended, and fail (never hang) when it does not."""

from __future__ import annotations

import asyncio
import time

import pytest

from chat_app.services import replies
from tests.support.waiting import wait_for_reply, wait_for_reply_job, wait_until


def test_wait_for_reply_returns_once_the_reply_is_no_longer_in_flight():
    reads = iter([True, True, False])
    started = time.monotonic()
    wait_for_reply(lambda: next(reads))
    assert time.monotonic() - started < 1


def test_a_reply_still_in_flight_at_the_deadline_fails_the_test():
    started = time.monotonic()
    with pytest.raises(AssertionError, match="the end of the reply did not happen within 0.2 s"):
        wait_for_reply(lambda: True, timeout=0.2)
    assert time.monotonic() - started < 1


def test_wait_until_names_what_it_waited_for():
    with pytest.raises(AssertionError, match="the heartbeat did not happen"):
        wait_until(lambda: False, timeout=0.1, what="the heartbeat")


async def test_waiting_on_a_job_leaves_the_event_loop_to_it(monkeypatch):
    running = {"reply-1"}
    monkeypatch.setattr(replies, "is_running", lambda message_id: message_id in running)

    async def job() -> None:  # ends only if the loop is free to run it meanwhile
        await asyncio.sleep(0.2)
        running.clear()

    task = asyncio.get_running_loop().create_task(job())
    await wait_for_reply_job("reply-1", timeout=5)
    assert task.done()
