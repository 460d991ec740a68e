"""Growing replies are saved together: a few transactions a second however many replies stream."""

import asyncio
import time
import uuid

from sqlmodel import Session

from chat_app.models import Message
from chat_app.services import chats, replies
from chat_app.services.batch_writer import SAVE_EVERY
from chat_app.services.llm import Deadlines
from tests.support.factories import make_chat, make_user
from tests.support.statements import statements_run
from tests.support.waiting import wait_for_reply_job

REPLIES = 30


async def test_thirty_streaming_replies_are_saved_and_ended_in_a_few_batches(engine, fake_env, configure):
    configure(REPLIES_IN_FLIGHT_PER_PERSON="0", REQUESTS_PER_MINUTE_PER_PERSON="0")  # one person sends all
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        posted = []
        for _ in range(REPLIES):
            chat = make_chat(session, user)
            _, reply = chats.post_message(user, chat.id, "[[tokens=60]] [[delay=0.02]]", session=session)
            session.commit()
            posted.append((str(chat.id), str(reply.id)))
    with statements_run(engine) as run:
        started = time.monotonic()
        for chat_id, reply_id in posted:
            replies.start_reply(chat_id, reply_id, engine=engine, deadlines=Deadlines(5, 5, 60))
        for _, reply_id in posted:
            await wait_for_reply_job(reply_id)
        streamed = time.monotonic() - started
    saves = [
        s
        for s in run
        if s.text.lstrip().startswith("UPDATE messages SET content")
        and "IN ('pending', 'streaming')" in s.text
    ]
    rows = [len(s.params) if s.many else 1 for s in saves]
    batches = [n for s, n in zip(saves, rows, strict=True) if "error=" not in s.text]  # growing replies
    endings = [n for s, n in zip(saves, rows, strict=True) if "error=" in s.text]  # replies that ended
    assert batches, "growing replies were saved while they streamed"
    assert len(batches) <= streamed / SAVE_EVERY + 2, f"{len(batches)} saves in {streamed:.1f} s"
    assert max(batches) > REPLIES / 2, "one save carries many replies"
    assert sum(endings) == REPLIES and len(endings) <= 6, f"{REPLIES} replies ended in {len(endings)} saves"
    counts = [
        len(s.params) if s.many else 1
        for s in run
        if s.text.lstrip().startswith("UPDATE messages SET input_tokens")
    ]
    assert sum(counts) == REPLIES and len(counts) <= 6, f"{REPLIES} replies counted in {len(counts)} saves"
    with Session(engine) as session:
        for _, reply_id in posted:
            saved = session.get(Message, uuid.UUID(reply_id))
            assert saved.status == "complete" and saved.content.endswith("tok60")


async def test_a_reply_that_ended_is_never_overwritten_by_an_older_save(engine, fake_env):
    from chat_app.services.batch_writer import BatchWriter

    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user)
        _, reply = chats.post_message(user, chat.id, "hi", session=session)
        reply.status, reply.content = "complete", "the whole answer"
        session.add(reply)
        session.commit()
    writer = BatchWriter(every=60)
    writer.changed(str(reply.id), lambda: "the whole", engine)  # read before the end was saved
    await writer.save_now()
    with Session(engine) as session:
        assert session.get(Message, reply.id).content == "the whole answer"
    await asyncio.sleep(0)


async def test_an_ending_is_saved_even_when_the_loop_is_closing(engine, fake_env):
    """A loop that closes cancels every task at once: a reply ending then must not wait forever
    for the writer's cancelled task (a test run once hung that way)."""
    from chat_app.services.batch_writer import BatchWriter, Ending

    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user)
        _, early = chats.post_message(user, chat.id, "hi", session=session)
        session.commit()
        _, late = chats.post_message(user, make_chat(session, user).id, "hi", session=session)
        session.commit()
    writer = BatchWriter(every=60)
    writer.start()
    waiting = writer.end(
        Ending(str(early.id), str(chat.id), "half", "stopped", None, None, None, None), engine
    )
    for task in writer._tasks:  # cancelled with the ending queued, before it ran
        task.cancel()
    await asyncio.gather(*writer._tasks, return_exceptions=True)
    after = writer.end(Ending(str(late.id), str(late.chat_id), "", "stopped", None, None, None, None), engine)
    await asyncio.wait_for(asyncio.gather(waiting, after), timeout=10)
    with Session(engine) as session:
        assert session.get(Message, early.id).status == "stopped"
        assert session.get(Message, late.id).status == "stopped"


async def test_a_count_of_tokens_goes_only_to_a_reply_still_complete(engine, fake_env):
    """A reply regenerated before its count came is counted at its new end, not by the old count."""
    from chat_app.services.batch_writer import BatchWriter, Usage

    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        _, done = chats.post_message(user, make_chat(session, user).id, "hi", session=session)
        _, again = chats.post_message(user, make_chat(session, user).id, "hi", session=session)
        done.status = "complete"
        session.add(done)
        session.commit()
    writer = BatchWriter(every=60)
    writer.start()
    await asyncio.wait_for(
        asyncio.gather(
            writer.usage(Usage(str(done.id), 12, 3, 0.5), engine),
            writer.usage(Usage(str(again.id), 12, 3, 0.5), engine),  # pending: running again
        ),
        timeout=10,
    )
    await writer.close()
    with Session(engine) as session:
        counted, pending = session.get(Message, done.id), session.get(Message, again.id)
        assert (counted.input_tokens, counted.output_tokens, counted.cost) == (12, 3, 0.5)
        assert (pending.input_tokens, pending.output_tokens, pending.cost) == (None, None, None)
