"""The server-owned reply job: saved as it goes by the batched writer, published live with
offsets, stopped from anywhere, ended in a saved state, and reaped when its worker is gone."""

import asyncio
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from chat_app.models import Message, User, utcnow
from chat_app.services import budgets, chats, llm, replies, workers
from chat_app.services.catalog import resolve_model
from chat_app.services.errors import Invalid
from chat_app.services.llm import Deadlines
from tests.support.factories import make_chat, make_user
from tests.support.live import live_events
from tests.support.waiting import wait_for_reply_job

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
    async with live_events(chat_id) as events:
        replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
        for _ in range(100):  # the first call also pays for importing LiteLLM
            midway = _load(engine, reply_id)
            if midway.content:
                break
            await asyncio.sleep(0.05)
        assert midway.status == "streaming"
        assert midway.content.startswith("tok1")  # saved as it goes, not only at the end
        await wait_for_reply_job(reply_id)
    saved = _load(engine, reply_id)
    assert saved.status == "complete"
    assert saved.content == " ".join(f"tok{i}" for i in range(1, 13))
    assert saved.output_tokens == 12 and saved.input_tokens > 0 and saved.cost > 0
    assert events[0]["type"] == "start" and events[-2:] == [
        {"type": "end", "message_id": reply_id, "status": "complete", "error": None},
        {"type": "usage", "message_id": reply_id},  # the provider's count, once its stream ended
    ]
    deltas = [e for e in events if e["type"] == "delta"]
    assert "".join(e["text"] for e in deltas) == saved.content
    # every delta says where it starts, so a view can join the saved text to it
    assert [e["at"] for e in deltas] == [sum(len(d["text"]) for d in deltas[:i]) for i in range(len(deltas))]


async def test_a_reply_is_saved_complete_when_its_text_ends_and_its_tokens_follow(engine, fake_env):
    """The provider's count of tokens comes after the text (LiteLLM rebuilds the whole response
    first: half a second for 4,000 tokens); the reply does not wait for it to be complete."""
    chat_id, reply_id = _post(engine, "[[tokens=3]] [[delay=0.01]] [[linger=1.5]]")
    async with live_events(chat_id) as events:
        replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
        for _ in range(200):
            if any(e["type"] == "end" for e in events):
                break
            await asyncio.sleep(0.02)
        ended = _load(engine, reply_id)
        assert ended.status == "complete" and ended.content == "tok1 tok2 tok3"
        assert ended.output_tokens is None and ended.cost is None  # counted when the stream ends
        assert replies.is_running(reply_id) and "usage" not in [e["type"] for e in events]
        await wait_for_reply_job(reply_id)
    counted = _load(engine, reply_id)
    assert counted.output_tokens == 3 and counted.input_tokens > 0 and counted.cost > 0
    assert counted.updated_at == ended.updated_at  # the reply ended when its text did
    assert events[-1] == {"type": "usage", "message_id": reply_id}


async def test_a_reply_stopped_after_its_text_ended_stays_complete_and_is_counted_here(engine, fake_env):
    chat_id, reply_id = _post(engine, "[[tokens=3]] [[delay=0.01]] [[linger=5]]")
    job = replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
    for _ in range(200):
        if _load(engine, reply_id).status == "complete":
            break
        await asyncio.sleep(0.02)
    assert job.task is not None
    job.task.cancel()  # the worker stops (or the stream breaks) before the provider counted
    await wait_for_reply_job(reply_id)
    saved = _load(engine, reply_id)
    assert saved.status == "complete" and saved.content == "tok1 tok2 tok3"
    assert saved.output_tokens and saved.input_tokens and saved.cost  # counted with the model's tokenizer


async def test_deltas_are_coalesced_at_the_source(engine, fake_env):
    chat_id, reply_id = _post(engine, "[[tokens=60]] [[delay=0.005]]")
    async with live_events(chat_id) as events:
        replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
        await wait_for_reply_job(reply_id)
    deltas = [e for e in events if e["type"] == "delta"]
    assert "".join(e["text"] for e in deltas) == _load(engine, reply_id).content
    assert deltas[0]["text"] == "tok1"  # the first token goes out at once, alone
    assert len(deltas) < 30, f"{len(deltas)} publications for 60 tokens in about 0.3 s"


async def test_stop_cancels_upstream_and_keeps_the_partial_reply(engine, fake_env):
    chat_id, reply_id = _post(engine, "[[tokens=100]] [[delay=0.05]]")
    replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
    for _ in range(200):  # until some text is saved (the first call also imports LiteLLM)
        if _load(engine, reply_id).content:
            break
        await asyncio.sleep(0.05)
    assert replies.is_running(reply_id)
    assert await replies.stop_in_chat(chat_id, engine=engine) is True
    await wait_for_reply_job(reply_id)
    saved = _load(engine, reply_id)
    assert saved.status == "stopped"
    assert saved.content.startswith("tok1") and "tok100" not in saved.content
    assert await replies.stop_in_chat(chat_id, engine=engine) is False
    _assert_charged_as_counted(engine, saved)


def _assert_charged_as_counted(engine, saved: Message) -> None:
    """The provider bills a reply cut short though it never reports its usage: the tokens sent and
    received are counted, and the cost counts against the asker's month."""
    import litellm

    with Session(engine) as session:
        model = resolve_model(saved.model_id, session=session)
    assert model is not None and model.litellm_model
    asked = _load_previous(engine, saved).content
    assert saved.output_tokens == litellm.token_counter(model=model.litellm_model, text=saved.content)
    assert saved.input_tokens == litellm.token_counter(model=model.litellm_model, text=asked) + 4
    assert saved.cost == pytest.approx(llm.reply_cost(model, saved.input_tokens, saved.output_tokens))
    assert saved.cost > 0
    with Session(engine) as session:
        assert budgets.spent_this_month(saved.author_id, session=session) == pytest.approx(saved.cost)


def _load_previous(engine, reply: Message) -> Message:
    with Session(engine) as session:
        return session.exec(
            select(Message).where(Message.chat_id == reply.chat_id, Message.seq == reply.seq - 1)
        ).one()


async def test_provider_failure_is_saved_as_an_error_with_its_partial_text(engine, fake_env):
    chat_id, reply_id = _post(engine, "[[tokens=10]] [[cut]]", model_id="anthropic/claude-haiku-4-5")
    replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
    await wait_for_reply_job(reply_id)
    saved = _load(engine, reply_id)
    assert saved.status == "error"
    assert "ended the reply early" in saved.error
    assert saved.content.startswith("tok1")
    _assert_charged_as_counted(engine, saved)


async def test_a_reply_refused_before_any_text_costs_nothing(engine, fake_env):
    chat_id, reply_id = _post(engine, "hi [[error=500]]")
    replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
    await wait_for_reply_job(reply_id)
    saved = _load(engine, reply_id)
    assert saved.status == "error" and saved.content == ""
    assert saved.cost is None and saved.input_tokens is None


def _in_flight(engine, reply_id: str, *, runner, seconds_ago: float, content: str = "half a rep") -> None:
    with Session(engine) as session:
        session.execute(
            sa.update(Message)
            .where(Message.id == uuid.UUID(reply_id))
            .values(
                status="streaming",
                runner=runner,
                content=content,
                updated_at=utcnow() - timedelta(seconds=seconds_ago),
            )
        )
        session.commit()


async def test_a_reply_whose_worker_is_gone_ends_interrupted_with_its_text(engine, fake_env):
    chat_id, reply_id = _post(engine, "never run")
    _in_flight(engine, reply_id, runner="other-host:4242:abc#1234", seconds_ago=0)
    ended = replies.reap(workers.LocalLiveness(), engine=engine)
    assert ended == [(chat_id, reply_id)]
    saved = _load(engine, reply_id)
    assert saved.status == "error" and "interrupted" in saved.error and saved.content == "half a rep"
    assert replies.reap(workers.LocalLiveness(), engine=engine) == []  # once


async def test_a_reply_of_a_live_worker_is_left_alone(engine, fake_env):
    chat_id, reply_id = _post(engine, "running elsewhere")

    class Everyone(workers.LocalLiveness):
        def alive(self, owners):
            return set(owners)

    _in_flight(engine, reply_id, runner="other-host:4242:abc#1234", seconds_ago=300)
    assert replies.reap(Everyone(), engine=engine) == []
    assert _load(engine, reply_id).status == "streaming"


async def test_replies_from_before_runners_and_unstarted_ones_of_this_worker_are_reaped(engine, fake_env):
    _, old_id = _post(engine, "left by an old server")
    _in_flight(engine, old_id, runner=None, seconds_ago=300)
    _, fresh_id = _post(engine, "left by an old server just now")
    _in_flight(engine, fresh_id, runner=None, seconds_ago=1)
    _, mine_id = _post(engine, "committed here, never started")
    _in_flight(engine, mine_id, runner=workers.new_run(), seconds_ago=replies.UNSTARTED_GRACE + 5)
    ended = {m for _, m in replies.reap(workers.LocalLiveness(), engine=engine, stale_after=60)}
    assert ended == {old_id, mine_id}
    assert _load(engine, fresh_id).status == "streaming"


async def test_the_reaper_tells_every_view(engine, fake_env):
    chat_id, reply_id = _post(engine, "never run")
    _in_flight(engine, reply_id, runner="gone-host:1:abc#1", seconds_ago=0)
    async with live_events(chat_id) as events:
        replies.start_reply(chat_id, str(uuid.uuid4()), engine=engine)  # makes the reaper watch this database
        for _ in range(60):
            if any(e["type"] == "end" and e["message_id"] == reply_id for e in events):
                break
            await asyncio.sleep(0.05)
    (end,) = [e for e in events if e["type"] == "end" and e["message_id"] == reply_id]
    assert end["status"] == "error" and "interrupted" in end["error"]


async def test_stop_ends_a_reply_whose_worker_is_gone_as_stopped(engine, fake_env):
    chat_id, reply_id = _post(engine, "orphan")
    _in_flight(engine, reply_id, runner="gone-host:1:abc#1", seconds_ago=0)
    assert await replies.stop_in_chat(chat_id, engine=engine) is True
    saved = _load(engine, reply_id)
    assert saved.status == "stopped" and saved.content == "half a rep"


async def test_a_reply_stops_when_its_asker_is_disabled(engine, fake_env):
    chat_id, reply_id = _post(engine, "[[tokens=200]] [[delay=0.05]]")
    replies.start_reply(chat_id, reply_id, deadlines=FAST, engine=engine)
    await asyncio.sleep(0.5)
    assert replies.is_running(reply_id)
    with Session(engine) as session:
        session.execute(
            sa.update(User).where(User.id == _load(engine, reply_id).author_id).values(disabled=True)
        )
        session.commit()
    await wait_for_reply_job(reply_id, timeout=3)  # within a round of the reaper
    saved = _load(engine, reply_id)
    assert saved.status == "stopped"
    assert saved.content.startswith("tok1") and "tok200" not in saved.content


def test_a_chat_has_one_reply_in_flight_even_when_two_sends_race(engine, provider_env, monkeypatch):
    """Two sends (two workers) both read "nothing in flight"; the database refuses the second."""
    with Session(engine, expire_on_commit=False) as first, Session(engine, expire_on_commit=False) as second:
        user = make_user(first)
        chat = make_chat(first, user)
        chats.post_message(user, chat.id, "one", session=first)
        first.commit()
        monkeypatch.setattr(chats, "reply_in_flight", lambda *_a, **_k: None)  # looked before the first
        with pytest.raises(Invalid, match="still being written"):
            chats.post_message(second.get(type(user), user.id), chat.id, "two", session=second)
        second.rollback()
    with Session(engine) as session:
        count = session.execute(
            sa.select(sa.func.count()).select_from(Message).where(Message.chat_id == chat.id)
        ).scalar_one()
        assert count == 2


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
    await wait_for_reply_job(reply_id)
    assert _load(engine, reply_id).status == "complete"
    sent = fake_env.chat_requests[-1]["headers"]["authorization"]
    assert sent == "Bearer sk-own-key-for-deepseek"
