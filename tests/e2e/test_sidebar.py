"""The sidebar at hundreds of chats: pinned ones on top, the rest by day, week and month in the
reader's own time, a page at a time as it is scrolled."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from chat_app.db import make_engine
from chat_app.models import Chat, User, utcnow
from tests.support.browser import register

CHATS = 130


def _seed_chats(database_url: str, email: str) -> list[str]:
    """Chats last active from minutes to months ago, newest first (their titles say how long ago)."""
    engine = make_engine(database_url)
    now = utcnow()
    ages = [timedelta(minutes=5)] + [timedelta(days=3)] + [timedelta(days=15 + n) for n in range(CHATS - 2)]
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.email == email)).one()
            rows = [
                {
                    "id": uuid.uuid4(),
                    "user_id": user.id,
                    "title": f"chat {n}",
                    "share_token": uuid.uuid4().hex,
                    "is_public": False,
                    "created_at": now - age,
                    "updated_at": now - age,
                }
                for n, age in enumerate(ages)
            ]
            session.execute(sa.insert(Chat), rows)
            session.commit()
            return [str(r["id"]) for r in rows]
    finally:
        engine.dispose()


def _a_zone_where_it_is_midday() -> str:
    """A time zone whose clock reads about noon now: the chat seeded minutes ago stays "Today"
    for the reader even when the test runs across midnight UTC."""
    hours_east = 12 - datetime.now(timezone.utc).hour  # -11 to 12
    return f"Etc/GMT{-hours_east:+d}"  # the tz database's sign is reversed: Etc/GMT-5 is UTC+5


def test_pinned_chats_on_top_the_rest_grouped_and_paged(new_page: Callable[..., Page], app_database):
    page = new_page(viewport={"width": 1280, "height": 800}, timezone_id=_a_zone_where_it_is_midday())
    email = register(page)
    ids = _seed_chats(app_database, email)
    page.reload()
    items = page.get_by_test_id("chat-item")
    expect(items).to_have_count(50)  # a page, not hundreds
    groups = page.get_by_test_id("chat-group")
    expect(groups.first).to_have_attribute("data-label", "Today")
    expect(groups.nth(1)).to_have_attribute("data-label", "Previous 7 days")
    expect(groups.nth(2)).to_have_attribute("data-label", "Previous 30 days")
    assert len(set(groups.evaluate_all("gs => gs.map(g => g.dataset.label)"))) == groups.count()

    # Scrolling to the end of the list brings the next page, and so on to the last chat.
    for shown in (100, CHATS):
        page.get_by_test_id("load-more-chats").scroll_into_view_if_needed()
        expect(items).to_have_count(shown)
    expect(page.get_by_test_id("load-more-chats")).to_have_count(0)
    assert items.evaluate_all("xs => xs.map(x => x.dataset.chatId)") == ids

    # Pin an old chat: it goes to the top, and stays there after a reload.
    old = page.locator(f'[data-testid="chat-item"][data-chat-id="{ids[-1]}"]').locator("xpath=..")
    old.get_by_test_id("pin-chat").click()
    pinned = page.get_by_test_id("pinned-chats")
    expect(pinned.get_by_test_id("chat-item")).to_have_text([f"chat {CHATS - 1}"])
    page.reload()
    expect(pinned.get_by_test_id("chat-item")).to_have_text([f"chat {CHATS - 1}"])
    pinned.get_by_test_id("unpin-chat").click()
    expect(page.get_by_test_id("pinned-chats")).to_have_count(0)

    # The open chat is marked in the list.
    page.goto(f"/chat/{ids[1]}")
    expect(page.locator(f'[data-testid="chat-item"][data-chat-id="{ids[1]}"]')).to_have_class(
        re.compile(r"\bactive\b")
    )
