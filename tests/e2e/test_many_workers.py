"""Two app instances (two workers each) sharing one PostgreSQL and one Redis, as two machines
behind a load balancer: a reply sent on one is seen, reloaded, stopped and retried on the other;
a send races on both; one instance dies mid-reply, the other stops gracefully."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from chat_app.services.batch_writer import SAVE_EVERY
from tests.e2e.instances import postgres_base, two_instances
from tests.support.app_server import AppProcess
from tests.support.browser import PASSWORD, choose_model, pages_on, register, send, sign_in
from tests.support.databases import postgres_schema
from tests.support.waiting import chat_in_flight, wait_for_reply

ASSISTANT = '[data-testid="message"][data-role="assistant"]'
WORKERS_PER_INSTANCE = "2"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A schema of its own in the test PostgreSQL, shared by both instances."""
    with postgres_schema(postgres_base()) as url:
        yield url


@pytest.fixture(scope="module")
def instances(provider_server, replicate_server, database, tmp_path_factory) -> Iterator[list[AppProcess]]:
    with two_instances(
        provider_server, replicate_server, database, tmp_path_factory, workers=WORKERS_PER_INSTANCE, extra={}
    ) as apps:
        yield apps


@pytest.fixture
def on(browser, instances):
    """on("a") / on("b"): a page in a fresh browser context, served by that instance."""
    with pages_on(browser, instances[0].url) as on_a, pages_on(browser, instances[1].url) as on_b:
        yield lambda which: {"a": on_a, "b": on_b}[which](viewport={"width": 1280, "height": 800})


def _last_reply(page: Page):
    return page.locator(ASSISTANT).last


def _chat_id(page: Page) -> str:
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[-1]


def _texts_while_streaming(page: Page, seconds: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = _last_reply(page).inner_text()
        if not seen or seen[-1] != text:
            seen.append(text)
        page.wait_for_timeout(40)
    return seen


def _owner_on_both(on) -> tuple[Page, Page, str]:
    page_a = on("a")
    email = register(page_a)
    page_b = on("b")
    sign_in(page_b, email)
    expect(page_b.get_by_test_id("composer-input")).to_be_visible()
    return page_a, page_b, email


def _the_stream_for(fake_providers, marker: str) -> dict:
    return next(r for r in reversed(fake_providers.chat_requests) if marker in str(r["json"]))


def test_a_reply_sent_on_one_instance_grows_on_the_other_and_survives_a_reload_there(on):
    page_a, page_b, _ = _owner_on_both(on)
    send(page_a, "count across machines [[tokens=90]] [[delay=0.05]]")
    chat_id = _chat_id(page_a)
    expect(_last_reply(page_a)).to_contain_text("tok2")
    page_b.goto(f"/chat/{chat_id}")
    expect(_last_reply(page_b)).to_have_attribute("data-status", "streaming")
    texts = _texts_while_streaming(page_b, 1.0)
    assert len(texts) >= 4, f"the reply should grow token by token on the other instance: {texts}"
    page_b.reload()
    expect(_last_reply(page_b)).to_have_attribute("data-status", "streaming")
    expect(_last_reply(page_b)).to_have_attribute("data-status", "complete", timeout=20_000)
    expected = " ".join(f"tok{i}" for i in range(1, 91))
    expect(_last_reply(page_b).locator(".message-markdown")).to_have_text(expected)
    expect(_last_reply(page_a).locator(".message-markdown")).to_have_text(expected)


def test_stop_on_one_instance_cancels_the_reply_running_on_the_other_within_a_second(on, fake_providers):
    page_a, page_b, _ = _owner_on_both(on)
    send(page_a, "stop me from elsewhere [[tokens=400]] [[delay=0.05]]")
    chat_id = _chat_id(page_a)
    page_b.goto(f"/chat/{chat_id}")
    expect(_last_reply(page_b)).to_contain_text("tok3")
    clicked = time.time()
    page_b.get_by_test_id("stop-button").click()
    expect(_last_reply(page_a)).to_have_attribute("data-status", "stopped")
    expect(_last_reply(page_b)).to_have_attribute("data-status", "stopped")
    stream = _the_stream_for(fake_providers, "stop me from elsewhere")["stream"]
    assert stream["ended_at"] is not None and not stream["finished"]
    assert stream["ended_at"] - clicked < 1.0, "the provider's stream was cancelled within a second"
    kept = _last_reply(page_a).inner_text()
    assert "tok3" in kept and "tok400" not in kept
    page_a.reload()
    expect(_last_reply(page_a)).to_have_attribute("data-status", "stopped")
    expect(_last_reply(page_a)).to_contain_text("tok3")


def test_a_generation_shows_its_progress_on_the_other_instance_and_is_cancelled_from_there(
    on, fake_replicate
):
    page_a, page_b, _ = _owner_on_both(on)
    choose_model(page_a, "replicate/black-forest-labs/flux-schnell")
    send(page_a, "a lighthouse [[hang]]")
    chat_id = _chat_id(page_a)
    page_b.goto(f"/chat/{chat_id}")
    expect(page_b.get_by_test_id("generation-progress")).to_have_attribute("data-status", "processing")
    page_b.get_by_test_id("cancel-generation").click()
    expect(_last_reply(page_a)).to_have_attribute("data-status", "stopped")
    expect(_last_reply(page_b)).to_have_attribute("data-status", "stopped")
    prediction = next(
        p
        for p in reversed(list(fake_replicate.predictions.values()))
        if "a lighthouse" in str(p.get("input"))
    )
    assert prediction["status"] == "canceled"


def test_two_sends_at_once_on_both_instances_give_one_reply(instances, fake_providers):
    a, b = instances
    client_a = httpx.Client(base_url=a.url, timeout=30)
    client_a.post(
        "/api/auth/register", json={"email": f"race-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
    ).raise_for_status()
    client_b = httpx.Client(base_url=b.url, timeout=30, cookies=client_a.cookies)
    chat_id = client_a.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    for round_ in range(3):
        start = threading.Barrier(2)
        answers: dict[str, httpx.Response] = {}

        def post(
            name: str,
            client: httpx.Client,
            text: str,
            start: threading.Barrier = start,
            answers: dict[str, httpx.Response] = answers,
        ) -> None:
            start.wait()
            answers[name] = client.post(f"/api/chats/{chat_id}/messages", json={"content": text})

        threads = [
            threading.Thread(target=post, args=(n, c, f"race {round_} from {n} [[tokens=5]] [[delay=0.05]]"))
            for n, c in (("a", client_a), ("b", client_b))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(r.status_code for r in answers.values())
        assert codes == [202, 400], {n: (r.status_code, r.text) for n, r in answers.items()}
        refused = next(r for r in answers.values() if r.status_code == 400)
        assert "still being written" in refused.json()["error"]
        wait_for_reply(chat_in_flight(client_a, chat_id))
    messages = client_a.get(f"/api/chats/{chat_id}").json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    assert all(m["status"] == "complete" for m in messages)


def test_an_instance_killed_mid_reply_leaves_it_interrupted_on_the_other_with_retry(
    on, instances, fake_providers
):
    a, _ = instances
    page_a, page_b, _ = _owner_on_both(on)
    send(page_a, "the machine dies [[tokens=400]] [[delay=0.05]]")
    chat_id = _chat_id(page_a)
    page_b.goto(f"/chat/{chat_id}")
    # The first look at the other instance's page: it loads as slowly as the shared machine is.
    expect(_last_reply(page_b)).to_contain_text("tok5", timeout=20_000)
    page_b.wait_for_timeout(SAVE_EVERY * 1000 + 300)  # tok5 has been saved by now
    killed = time.monotonic()
    a.kill()
    reply = _last_reply(page_b)
    expect(reply).to_have_attribute("data-status", "error", timeout=15_000)
    shown_after = time.monotonic() - killed
    expect(reply.get_by_test_id("message-error")).to_contain_text("interrupted")
    expect(reply).to_contain_text("tok5")  # the text saved so far is kept (at most the last interval is lost)
    assert shown_after < 8, f"the other instance showed the interruption only after {shown_after:.1f} s"
    reply.get_by_test_id("retry-button").click()
    expect(_last_reply(page_b)).to_have_attribute("data-status", "complete", timeout=40_000)
    expect(_last_reply(page_b)).to_contain_text("tok400")


def test_an_instance_asked_to_stop_ends_its_replies_saved_before_it_exits(
    instances, database, fake_providers
):
    _, b = instances
    client = httpx.Client(base_url=b.url, timeout=30)
    client.post(
        "/api/auth/register", json={"email": f"term-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
    ).raise_for_status()
    chat_ids = [client.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"] for _ in range(3)]
    for chat_id in chat_ids:
        assert (
            client.post(
                f"/api/chats/{chat_id}/messages", json={"content": "long [[tokens=400]] [[delay=0.05]]"}
            ).status_code
            == 202
        )
    time.sleep(1.5)
    assert b.stop(timeout=30) == 0
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT status, content FROM messages WHERE role = 'assistant' AND session_id IN "
                "(SELECT id FROM chat_sessions WHERE id::text = ANY(:ids))"
            ),
            {"ids": chat_ids},
        ).all()
    engine.dispose()
    # Every reply of these chats ended saved (another test's reply, still in flight on an instance
    # it killed, is not this one's to end).
    assert [r.status for r in rows] == ["stopped"] * 3
    assert all(r.content.startswith("tok1") for r in rows)
