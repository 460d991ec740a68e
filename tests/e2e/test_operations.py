"""What an operator sees of the running app: its metrics follow the tabs people have open."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from chat_app.state.live_reply import TAB_CHECK
from tests.e2e.conftest import METRICS_TOKEN
from tests.support.browser import pages_on, register, send
from tests.support.waiting import wait_until


def _live_followers(app_url: str) -> float:
    scraped = httpx.get(f"{app_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    scraped.raise_for_status()
    for family in text_string_to_metric_families(scraped.text):
        if family.name == "chat_live_followers":
            return family.samples[0].value
    raise AssertionError("chat_live_followers is not among the metrics")


def test_a_closed_tab_stops_following_its_chat(browser, app_url):
    # the tabs of earlier tests are closed: their views end within two looks
    wait_until(lambda: _live_followers(app_url) == 0, timeout=4 * TAB_CHECK, what="no view left following")
    with pages_on(browser, app_url) as make:
        page = make()
        register(page)
        send(page, "hello [[tokens=2]]")  # a new chat: its page, once open, follows it
        expect(page.locator('[data-role="assistant"][data-status="complete"]')).to_have_count(1)
        send(page, "and again [[tokens=2]]")  # from Send on, the view follows the chat itself
        expect(page.locator('[data-role="assistant"][data-status="complete"]')).to_have_count(2)
        assert _live_followers(app_url) == 1
    wait_until(
        lambda: _live_followers(app_url) == 0, timeout=3 * TAB_CHECK, what="the closed tab's view ending"
    )


def test_the_server_runs_with_its_collector_set_for_many_streams(app_url, app_data):
    """chat_app/collector.py, run by the app's lifespan: thresholds set, the loaded heap frozen."""
    said = [line for line in (app_data / "app.log").read_text().splitlines() if "garbage collector:" in line]
    assert said and "thresholds (50000, 20, 10)" in said[0]
