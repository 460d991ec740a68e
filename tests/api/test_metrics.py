"""GET /metrics: Prometheus's text format, for the holder of METRICS_TOKEN only."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.fakes import media_samples as samples
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


def _scraper(api):
    return lambda: _samples(api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text)


def _reply(api, chat_id: str, content: str) -> None:
    assert api.post(f"/api/chats/{chat_id}/messages", json={"content": content}).status_code == 202
    wait_for_reply(chat_in_flight(api, chat_id))


def test_replies_are_counted_by_provider_with_their_times_and_tokens(api, configure, fake_env):
    configure(METRICS_TOKEN=TOKEN)
    scrape = _scraper(api)
    openai = (("provider", "openai"),)
    complete = ("chat_replies_finished_total", (("kind", "text"), *openai, ("status", "complete")))
    failed = ("chat_replies_finished_total", (("kind", "text"), *openai, ("status", "error")))
    timed = ("chat_reply_seconds_count", (("kind", "text"), *openai))
    first_token = ("chat_first_token_seconds_count", openai)
    output = ("chat_tokens_total", (("direction", "output"), *openai))
    limited = ("chat_provider_errors_total", (("kind", "rate_limited"), *openai))
    before = scrape()
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    _reply(api, chat_id, "hi [[tokens=3]]")
    _reply(api, chat_id, "again [[error=429]]")
    after = scrape()
    grew = lambda sample, by=1: after[sample] == before.get(sample, 0) + by  # noqa: E731
    assert grew(complete) and grew(failed) and grew(limited)
    assert grew(timed, 2) and grew(first_token) and grew(output, 3)
    assert after[("chat_replies_running", ())] == 0


def test_uploads_are_counted_by_kind_and_outcome(api, configure):
    configure(METRICS_TOKEN=TOKEN)
    scrape = _scraper(api)
    passed = ("chat_uploads_total", (("kind", "image"), ("outcome", "passed")))
    refused = ("chat_uploads_total", (("kind", "unknown"), ("outcome", "refused")))
    before = scrape()
    api_user(api)
    assert api.post("/api/upload", files={"file": ("cat.png", samples.png(), "image/png")}).status_code == 201
    assert api.post("/api/upload", files={"file": ("x.html", b"<html>", "text/html")}).status_code == 400
    after = scrape()
    assert after[passed] == before.get(passed, 0) + 1
    assert after[refused] == before.get(refused, 0) + 1
