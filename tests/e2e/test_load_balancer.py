"""Two instances behind nginx with the project's own deploy/nginx.conf, round robin and no
stickiness: pages, API calls and websockets land on either instance, and a reply started in a tab
served by one is seen growing, and stopped, in a tab served by the other."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.instances import postgres_base, two_instances
from tests.support.app_server import AppProcess, free_port
from tests.support.browser import pages_on, register, send, sign_in
from tests.support.databases import postgres_schema
from tests.support.load_balancer import running_nginx

METRICS_TOKEN = "balancer-metrics"
ASSISTANT = '[data-testid="message"][data-role="assistant"]'


@pytest.fixture(scope="module")
def balanced(
    provider_server, replicate_server, tmp_path_factory
) -> Iterator[tuple[str, list[AppProcess], object]]:
    port = free_port()
    public = f"http://localhost:{port}"
    extra = {
        "PUBLIC_URL": public,
        "REFLEX_API_URL": public,  # the page's websocket goes to the balancer, not to its instance
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    with (
        postgres_schema(postgres_base()) as database,
        two_instances(
            provider_server,
            replicate_server,
            database,
            tmp_path_factory,
            workers="1",
            extra=extra,
            one_build=True,
        ) as apps,
        running_nginx(port, [app.port for app in apps], tmp_path_factory.mktemp("nginx")) as access_log,
    ):
        yield public, apps, access_log


def _followers(app: AppProcess) -> float:
    """Views following a chat on this instance (one worker: one answer), asked of it directly."""
    scraped = httpx.get(f"{app.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    scraped.raise_for_status()
    family = next(f for f in text_string_to_metric_families(scraped.text) if f.name == "chat_live_followers")
    return family.samples[0].value


def _last_reply(page: Page):
    return page.locator(ASSISTANT).last


def test_a_reply_started_through_one_instance_is_seen_and_stopped_through_the_other(browser, balanced):
    public, apps, access_log = balanced
    with pages_on(browser, public) as make:
        page_a = make()
        email = register(page_a)
        send(page_a, "through the balancer [[tokens=400]] [[delay=0.05]]")
        page_a.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
        chat_id = page_a.url.rsplit("/", 1)[-1]
        expect(_last_reply(page_a)).to_contain_text("tok2")
        page_b = make()
        sign_in(page_b, email)
        # Round robin decides where each websocket goes: open the chat until page B's view
        # follows it on the instance that page A's does not.
        for _ in range(8):
            page_b.goto(f"/chat/{chat_id}")
            expect(_last_reply(page_b)).to_have_attribute("data-status", "streaming")
            page_b.wait_for_timeout(300)
            if [_followers(app) for app in apps] == [1, 1]:
                break
        else:
            pytest.fail("page B's websocket never landed on the other instance")
        expect(_last_reply(page_b)).to_contain_text("tok6")
        page_b.get_by_test_id("stop-button").click()
        expect(_last_reply(page_a)).to_have_attribute("data-status", "stopped")
        expect(_last_reply(page_b)).to_have_attribute("data-status", "stopped")
    proxied = [line.split() for line in access_log.read_text().splitlines()]
    assert {upstream for _uri, upstream, _status in proxied} == {f"127.0.0.1:{app.port}" for app in apps}
    assert sum(uri.startswith("/_event") for uri, _upstream, _status in proxied) >= 2  # websockets too
