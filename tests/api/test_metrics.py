"""GET /metrics: Prometheus's text format, for the holder of METRICS_TOKEN only."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.support.factories import api_user
from tests.support.waiting import chat_in_flight, wait_for_reply

TOKEN = "scrape-token-for-tests"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_without_the_setting_there_is_no_route(api):
    assert api.get("/metrics").status_code == 404
    assert api.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


def test_only_the_token_holder_reads_them(api, configure):
    configure(METRICS_TOKEN=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = api.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "chat_" not in refused.text
    read = api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert read.status_code == 200 and read.headers["content-type"].startswith("text/plain")
    assert read.headers["cache-control"] == "no-store"
    names = {name for name, _ in _samples(read.text)}
    assert {"chat_live_followers", "chat_replies_running", "process_resident_memory_bytes"} <= names


def test_a_finished_reply_is_counted_by_how_it_ended(api, configure, fake_env):
    configure(METRICS_TOKEN=TOKEN)
    scrape = lambda: _samples(api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text)  # noqa: E731
    complete = ("chat_replies_finished_total", (("kind", "text"), ("status", "complete")))
    timed = ("chat_reply_seconds_count", (("kind", "text"),))
    before = scrape()
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    assert api.post(f"/api/chats/{chat_id}/messages", json={"content": "hi [[tokens=3]]"}).status_code == 202
    wait_for_reply(chat_in_flight(api, chat_id))
    after = scrape()
    assert after[complete] == before.get(complete, 0) + 1
    assert after[timed] == before.get(timed, 0) + 1
    assert after[("chat_replies_running", ())] == 0
