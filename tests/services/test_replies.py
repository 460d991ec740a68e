"""The server-owned reply job: saves as it goes, publishes live, obeys stop, ends in a saved state."""

import asyncio
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from chat_app.models import Message, utcnow
from chat_app.services import chats, replies
from chat_app.services.live import channel
from chat_app.services.llm import Deadlines
from tests.conftest import make_chat, make_user
from tests.support.replies import wait_until_done

FAST = Deadlines(first_token=3, chunk_gap=2, total=30)


def _post(engine, text: str, model_id: str = "openai/gpt-4o"):
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user, model_id=model_id)
        _, reply = chats.post_message(user, chat.id, text, session=session)
        session.commit()
        return str(chat.id), str(reply.id)


def _load(engine, message_id: str) -> Message:
    with Session(engine) as session:
        return session.get(Message, uuid.UUID(message_id))


async def test_reply_streams_publishes_and_saves_with_usage_and_cost(engine, fake_env):
    chat_id, reply_id = _post(engine, "[[tokens=12]] [[delay=0.1]]")
    events = []
    with channel.subscribe(chat_id) as queue:
        replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
        for _ in range(100):  # the first call also pays for importing LiteLLM
            midway = _load(engine, reply_id)
            if midway.content:
                break
            await asyncio.sleep(0.05)
        assert midway.status == "streaming"
        assert midway.content.startswith("tok1")  # saved as it goes, not only at the end
        await wait_until_done(reply_id)
        while not queue.empty():
            events.append(queue.get_nowait())
    saved = _load(engine, reply_id)
    assert saved.status == "complete"
    assert saved.content == " ".join(f"tok{i}" for i in range(1, 13))
    assert saved.output_tokens == 12 and saved.input_tokens > 0 and saved.cost > 0
    assert events[0]["type"] == "start" and events[-1] == {
        "type": "end", "message_id": reply_id, "status": "complete", "error": None}
    assert "".join(e["text"] for e in events if e["type"] == "delta") == saved.content


async def test_stop_cancels_upstream_and_keeps_the_partial_reply(engine, fake_env):
    chat_id, reply_id = _post(engine, "[[tokens=100]] [[delay=0.05]]")
    job = replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
    await asyncio.sleep(0.6)
    assert replies.running_in(chat_id) is job
    assert replies.stop_reply(reply_id) is True
    await wait_until_done(reply_id)
    saved = _load(engine, reply_id)
    assert saved.status == "stopped"
    assert saved.content.startswith("tok1") and "tok100" not in saved.content
    assert replies.stop_reply(reply_id) is False


async def test_provider_failure_is_saved_as_an_error_with_its_partial_text(engine, fake_env):
    chat_id, reply_id = _post(engine, "[[tokens=10]] [[cut]]", model_id="anthropic/claude-haiku-4-5")
    replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
    await wait_until_done(reply_id)
    saved = _load(engine, reply_id)
    assert saved.status == "error"
    assert "ended the reply early" in saved.error
    assert saved.content.startswith("tok1")


async def test_replies_left_in_flight_by_a_stopped_server_are_marked_interrupted(engine, fake_env):
    chat_id, reply_id = _post(engine, "never run")
    with Session(engine) as session:
        session.execute(sa.update(Message).where(Message.role == "assistant").values(
            status="streaming", updated_at=utcnow() - timedelta(minutes=5)))
        session.commit()
        replies.mark_orphans(uuid.UUID(chat_id), session=session, stale_after=60)
        session.commit()
    saved = _load(engine, reply_id)
    assert saved.status == "error" and "interrupted" in saved.error


async def test_a_reply_is_paid_with_the_authors_own_key(engine, fake_env, monkeypatch):
    from chat_app.services import keys

    monkeypatch.delenv("DEEPSEEK_API_KEY")
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        keys.set_key(user, "deepseek", "sk-own-key-for-deepseek", session=session)
        chat = make_chat(session, user, model_id="deepseek/deepseek-chat")
        _, reply = chats.post_message(user, chat.id, "[[tokens=2]]", session=session)
        session.commit()
        chat_id, reply_id = str(chat.id), str(reply.id)
    replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
    await wait_until_done(reply_id)
    assert _load(engine, reply_id).status == "complete"
    sent = fake_env.chat_requests[-1]["headers"]["authorization"]
    assert sent == "Bearer sk-own-key-for-deepseek"
