"""Waiting in tests: one polling loop, and the one way to wait for a reply to end, read wherever the
test can see it (this process's reply jobs, or an app's API in this process or another)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import httpx

from chat_app.models import MessageStatus
from chat_app.services import replies

IN_FLIGHT = frozenset({MessageStatus.pending, MessageStatus.streaming})
POLL_EVERY = 0.05  # seconds


def wait_until(
    condition: Callable[[], object], *, timeout: float = 20.0, what: str = "the condition"
) -> None:
    """Return once `condition()` is true; fail the test if it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(POLL_EVERY)


def wait_for_reply(in_flight: Callable[[], bool], *, timeout: float = 20.0) -> None:
    """Return once `in_flight()` says the reply is no longer being written (whatever its end)."""
    wait_until(lambda: not in_flight(), timeout=timeout, what="the end of the reply")


def chat_in_flight(client: httpx.Client, chat_id: str) -> Callable[[], bool]:
    """Read through the API, as a client would: whether a message of the chat is still being written
    (and, with the app in this process, until its job saved the provider's count of tokens, which
    may come after the reply was saved complete)."""

    def read() -> bool:
        messages = client.get(f"/api/chats/{chat_id}").json()["messages"]
        return any(m["status"] in IN_FLIGHT or replies.is_running(m["id"]) for m in messages)

    return read


def job_in_flight(message_id: uuid.UUID | str) -> Callable[[], bool]:
    """Read from this process: whether its job for the reply is still running."""
    return lambda: replies.is_running(str(message_id))


async def wait_for_reply_job(message_id: uuid.UUID | str, *, timeout: float = 20.0) -> None:
    """`wait_for_reply` on a job of this process, from an async test: the job runs on this event loop,
    so the polling waits in a thread and leaves the loop to the job."""
    await asyncio.to_thread(wait_for_reply, job_in_flight(message_id), timeout=timeout)
