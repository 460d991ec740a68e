"""A long chat opens with its latest page; older pages come as the reader scrolls up, each sent
once, the reader's place kept; what the chat cost is summed by the server."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from chat_app.db import make_engine
from chat_app.models import Chat, ConversationSummary, Message, User, utcnow
from tests.support.browser import register

MESSAGES = 130  # two pages and a bit above the first one
PAGE = 50


def _seed_long_chat(database_url: str, email: str, count: int = MESSAGES, text: str = "message {n}") -> str:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.email == email)).one()
            chat = Chat(
                user_id=user.id, title="A long one", model_id="openai/gpt-4o", share_token=uuid.uuid4().hex
            )
            ids = [uuid.uuid4() for _ in range(count + 1)]  # one branch: each follows the one before
            chat.current_leaf_id = ids[count]
            session.add(chat)
            session.flush()
            now = utcnow()
            session.execute(
                sa.insert(Message),
                [
                    {
                        "id": ids[n],
                        "parent_id": ids[n - 1] if n > 1 else None,
                        "depth": n,
                        "chat_id": chat.id,
                        "seq": n,
                        "role": "user" if n % 2 else "assistant",
                        "content": text.format(n=n),
                        "status": "complete",
                        "cost": None if n % 2 else 0.01,
                        "model_id": "openai/gpt-4o",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(1, count + 1)
                ],
            )
            session.commit()
            return str(chat.id)
    finally:
        engine.dispose()


@pytest.fixture
def long_chat(page: Page, app_database) -> str:
    email = register(page)
    return _seed_long_chat(app_database, email)


def _texts(page: Page) -> list[str]:
    return page.locator('[data-testid="message"] .message-markdown').all_inner_texts()


def test_a_long_chat_opens_with_its_latest_page_and_the_server_sums_its_cost(page: Page, long_chat):
    page.goto(f"/chat/{long_chat}")
    expect(page.get_by_test_id("message")).to_have_count(PAGE)
    texts = _texts(page)
    assert texts[0] == f"message {MESSAGES - PAGE + 1}" and texts[-1] == f"message {MESSAGES}"
    expect(page.get_by_test_id("load-earlier")).to_be_visible()
    expect(page.get_by_test_id("chat-cost")).to_contain_text("$0.65")  # 65 replies, most of them not shown


def test_scrolling_up_brings_earlier_pages_once_each_and_keeps_the_readers_place(page: Page, long_chat):
    received: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(str(payload))))
    page.goto(f"/chat/{long_chat}")
    expect(page.get_by_test_id("message")).to_have_count(PAGE)
    received.clear()
    first = page.locator('[data-testid="message"]').first
    expect(first).to_contain_text(f"message {MESSAGES - PAGE + 1}")
    top = page.locator(f'[data-message-id="{first.get_attribute("data-message-id")}"]')
    page.locator(".conversation").evaluate("pane => { pane.scrollTop = 0; }")
    before = top.bounding_box()["y"]
    expect(page.get_by_test_id("message")).to_have_count(2 * PAGE)  # reaching the top loads the page above
    page.wait_for_timeout(300)
    assert abs(top.bounding_box()["y"] - before) < 5, "the message the reader was at stays in its place"
    sent = "".join(received)

    def was_sent(n: int) -> bool:  # as a var's JSON, or inside the script that puts a page on top
        return f'"message {n}"' in sent or f"message {n}" + '\\"' in sent

    assert was_sent(MESSAGES - 2 * PAGE + 1) and was_sent(MESSAGES - PAGE)
    assert not any(was_sent(n) for n in range(MESSAGES - PAGE + 1, MESSAGES + 1)), (
        "what the page already shows is not sent again"
    )
    page.get_by_test_id("load-earlier").click()
    expect(page.get_by_test_id("message")).to_have_count(MESSAGES)
    expect(page.get_by_test_id("load-earlier")).to_have_count(0)
    texts = _texts(page)
    assert texts == [f"message {n}" for n in range(1, MESSAGES + 1)]
    page.reload()
    expect(page.get_by_test_id("message")).to_have_count(PAGE)


def test_a_link_to_an_old_message_opens_the_chat_reaching_up_to_it(page: Page, long_chat, app_database):
    engine = make_engine(app_database)
    with Session(engine) as session:
        tenth = session.exec(
            select(Message).where(Message.chat_id == uuid.UUID(long_chat), Message.seq == 10)
        ).one()
    engine.dispose()
    page.goto(f"/chat/{long_chat}?at={tenth.id}#message-{tenth.id}")
    # Down from it in one go (the page above may follow at once: the view opens at its top).
    found = page.locator(f'[data-message-id="{tenth.id}"]')
    expect(found).to_contain_text("message 10")
    expect(found).to_be_in_viewport()
    page.locator(".conversation").evaluate("pane => { pane.scrollTop = 0; }")  # the rest, above
    expect(page.get_by_test_id("message")).to_have_count(MESSAGES)
    assert _texts(page) == [f"message {n}" for n in range(1, MESSAGES + 1)]


def test_a_reply_in_a_long_chat_streams_below_the_latest_page(page: Page, long_chat):
    page.goto(f"/chat/{long_chat}")
    expect(page.get_by_test_id("message")).to_have_count(PAGE)
    page.get_by_test_id("composer-input").fill("one more [[tokens=5]]")
    page.get_by_test_id("send-button").click()
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply).to_contain_text("tok5")
    expect(page.get_by_test_id("message")).to_have_count(PAGE + 2)


def test_a_reply_that_could_not_send_the_whole_chat_says_so(page: Page, app_database):
    email = register(page)
    long_turns = "{n}: " + "a long turn of this conversation, " * 30  # about 210 tokens each
    chat_id = _seed_long_chat(app_database, email, count=700, text=long_turns)  # past GPT-4o's window
    page.goto(f"/chat/{chat_id}")
    page.get_by_test_id("composer-input").fill("and now? [[tokens=3]]")
    page.get_by_test_id("send-button").click()
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")
    note = reply.get_by_test_id("context-note")
    expect(note).to_contain_text("earlier messages did not fit the model's context window and were not sent.")
    expect(note).to_contain_text("Used the last ")


def _sum_up(database_url: str, chat_id: str, covered: int, text: str) -> str:
    """A summary of the chat's first `covered` messages, sent with its last reply in their place;
    the chat is made public. Returns its share token."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            chat = session.get(Chat, uuid.UUID(chat_id))
            assert chat is not None
            rows = list(
                session.exec(select(Message).where(Message.chat_id == chat.id).order_by(col(Message.seq)))
            )
            summary = ConversationSummary(
                message_id=rows[covered - 1].id,
                chat_id=chat.id,
                depth=covered,
                covered=covered,
                content=text,
                model_id="openai/gpt-4o-mini",
            )
            reply = rows[-1]
            reply.summary_id, reply.summarized_messages = summary.id, covered
            reply.left_out_messages, reply.prompt_messages = covered, len(rows) - 1 - covered
            chat.is_public = True
            session.add_all([summary, reply, chat])
            session.commit()
            return chat.share_token
    finally:
        engine.dispose()


def test_the_summary_a_reply_was_sent_with_opens_from_its_note_for_whoever_reads_the_chat(
    page: Page, new_page, app_database
):
    email = register(page)
    chat_id = _seed_long_chat(app_database, email, count=10)
    summed_up = "They are planning a week in Lisbon.\n\n- in May\n- on 900 euros"
    token = _sum_up(app_database, chat_id, 6, summed_up)
    page.goto(f"/chat/{chat_id}")
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply.get_by_test_id("context-note")).to_have_text(
        "Used the last 3 messages, and a summary of the 6 earlier messages: "
        "those did not fit the model's context window."
    )
    expect(page.get_by_test_id("show-summary")).to_have_count(1)  # only the reply sent one
    reply.get_by_test_id("show-summary").click()
    dialog = page.get_by_test_id("summary-dialog")
    expect(dialog.get_by_test_id("summary-text")).to_have_text(summed_up, use_inner_text=True)
    expect(dialog.get_by_test_id("summary-about")).to_have_text(
        "GPT-4o mini wrote this of the 6 earliest messages of this conversation; "
        "the reply's model was sent it in their place."
    )
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    visitor = new_page()  # signed out, by the chat's public link
    visitor.goto(f"/share/{token}")
    visitor.locator('[data-testid="message"][data-role="assistant"]').last.get_by_test_id(
        "show-summary"
    ).click()
    expect(visitor.get_by_test_id("summary-text")).to_have_text(summed_up, use_inner_text=True)
