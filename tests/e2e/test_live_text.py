"""The reply in flight reaches the page as pieces appended to what it has; every viewer ends with
exactly the saved message, a viewer who joins mid-reply and a page that missed a piece included."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import register, send, sign_in

STREAMING = '[data-testid="message"][data-role="assistant"][data-status="streaming"]'
FINISHED = '[data-testid="message"][data-role="assistant"][data-status="complete"]'
LONG = "a long one [[tokens=400]] [[delay=0.01]]"  # past the fast start: sent in pieces
# Long enough (about 16 s) that a second page signed in meanwhile joins it mid-reply on a slow machine.
SLOW_LONG = "a long one [[tokens=400]] [[delay=0.04]]"


def _saved_reply(page: Page, app_url: str) -> str:
    chat_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    chat = httpx.get(f"{app_url}/api/chats/{chat_id}", cookies=cookies).json()
    return chat["messages"][-1]["content"]


def _shown(page: Page) -> str:
    return page.locator(f"{FINISHED} .message-markdown").last.inner_text().strip()


def test_a_viewer_who_joins_mid_reply_ends_with_the_saved_message(page: Page, new_page, app_url):
    email = register(page)
    send(page, SLOW_LONG)
    expect(page.locator(STREAMING)).to_contain_text("tok50")
    other = new_page(viewport={"width": 390, "height": 844})
    sign_in(other, email)
    other.goto(page.url)  # the same chat, mid-reply
    expect(other.locator(STREAMING)).to_contain_text("tok300", timeout=20_000)
    expect(other.locator(FINISHED)).to_contain_text("tok400", timeout=20_000)
    expect(page.locator(FINISHED)).to_contain_text("tok400")
    saved = _saved_reply(page, app_url)
    assert saved.endswith("tok400")
    assert _shown(page) == _shown(other) == saved


def test_a_page_that_missed_a_piece_asks_for_the_whole_text(page: Page, app_url):
    register(page)
    send(page, LONG)
    expect(page.locator(STREAMING)).to_contain_text("tok20")
    # As after a reconnect: what the page holds is not what the server last sent it.
    page.evaluate("window.liveText.reset({}, 'lost')")
    expect(page.locator(FINISHED)).to_contain_text("tok400", timeout=15_000)
    assert _shown(page) == _saved_reply(page, app_url)


def test_the_conversation_follows_the_reply_at_its_end_and_stays_put_when_scrolled_up(new_page):
    page = new_page(viewport={"width": 390, "height": 600})
    register(page)
    send(page, "a long one [[tokens=600]] [[delay=0.01]]")
    pane = page.locator(".conversation")
    expect(page.locator(STREAMING)).to_contain_text("tok150")
    gap = "el => el.scrollHeight - el.scrollTop - el.clientHeight"
    assert pane.evaluate("el => el.scrollHeight > el.clientHeight")  # the reply is taller than the pane
    assert pane.evaluate(gap) < 120  # following the end
    pane.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    expect(page.locator(STREAMING)).to_contain_text("tok300")  # more text came meanwhile
    assert pane.evaluate("el => el.scrollTop") == 0  # the reader's place is kept
