"""Earlier messages that no longer fit a model's window, summed up by a cheap model and sent in
their place (SUMMARY_MODEL), carried forward reply after reply."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from chat_app.models import Chat, ConversationSummary, Message, ModelEntry, SpendRecord, User
from chat_app.services import access, branches, catalog, chats, replies, side_calls, summaries, summary_calls
from chat_app.services.errors import NotFound
from chat_app.services.llm import Deadlines
from chat_app.services.views import context_note
from tests.support.factories import make_chat, make_user, write_conversation
from tests.support.waiting import wait_for_reply_job

FAST = Deadlines(first_token=3, chunk_gap=2, total=30)
SMALL_WINDOW = 2_000  # for these tests: about 1,400 tokens of conversation with a reply
SUMMED_UP = "They are planning a week in Lisbon in May, on a budget of 900 euros."
EARLIER = 40


@pytest.fixture
def small_window(engine):
    """Every text model with a window so small that a test's chat outgrows it."""
    with Session(engine) as session:
        session.execute(
            sa.update(ModelEntry).where(ModelEntry.type == "text").values(context_window=SMALL_WINDOW)
        )
        session.commit()
    catalog._catalog_changed()
    yield
    catalog._catalog_changed()


def _long_chat(engine, model_id: str = "openai/gpt-4o") -> tuple[uuid.UUID, User]:
    """40 earlier messages of about 80 tokens each; the first tells the fake what a summary says."""
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user, model_id=model_id)
        written = [
            Message(
                chat_id=chat.id,
                seq=n,
                role="user" if n % 2 else "assistant",
                author_id=user.id if n % 2 else None,
                content=f"message {n}: " + "about the trip, its days, places and costs " * 8,
            )
            for n in range(1, EARLIER + 1)
        ]
        written[0].content += f" [[summary={SUMMED_UP}]]"
        branches.chain(chat, written)
        session.add_all([chat, *written])
        session.commit()
        return chat.id, user


async def _send(engine, chat_id: uuid.UUID, user: User, text: str) -> Message:
    """A message and its reply, written to the end; then the summary the reply asked for."""
    with Session(engine, expire_on_commit=False) as session:
        _, reply = chats.post_message(user, chat_id, text, session=session)
        session.commit()
    replies.start_reply(str(chat_id), str(reply.id), deadlines=FAST, engine=engine)
    await wait_for_reply_job(reply.id)
    await side_calls.all_finished()
    with Session(engine) as session:
        saved = session.get(Message, reply.id)
        assert saved is not None
        return saved


def _summaries(engine) -> list[ConversationSummary]:
    with Session(engine) as session:
        return list(session.exec(select(ConversationSummary).order_by(ConversationSummary.depth)))


@pytest.mark.parametrize(
    "model_id",
    ["openai/gpt-4o", "anthropic/claude-sonnet-4-5", "gemini/gemini-2.5-flash", "deepseek/deepseek-chat"],
)
async def test_messages_left_out_are_summed_up_and_sent_as_a_summary_from_then_on(
    engine, fake_env, configure, small_window, model_id
):
    configure(SUMMARY_MODEL="openai/gpt-4o-mini")
    chat_id, user = _long_chat(engine, model_id)

    first = await _send(engine, chat_id, user, "Where do we stay? [[tokens=3]]")
    assert first.status == "complete" and first.left_out_messages > 0 and first.summarized_messages == 0
    assert first.summary_id is None
    reply_call, summary_call = fake_env.chat_requests
    assert reply_call["messages"][0]["role"] == "user"  # no summary yet: the turns that fit
    assert summary_call["model"] == "gpt-4o-mini"
    assert "Write a summary" in summary_call["messages"][0]["text"]
    shown = summary_call["messages"][1]["text"]
    assert shown.startswith("The conversation:\n\nUser: message 1: ")  # oldest first, from the start
    (kept,) = _summaries(engine)
    assert kept.content == SUMMED_UP and kept.model_id == "openai/gpt-4o-mini"
    assert kept.covered == first.left_out_messages  # every message the reply could not send
    assert kept.depth == first.left_out_messages  # kept at the newest of them
    assert f"message {kept.depth}: " in shown and f"message {kept.depth + 1}: " not in shown

    # A long message: the turns that fit now end below the summary, which is carried forward.
    food = "tell me about the food, the markets and what things cost there " * 10
    second = await _send(engine, chat_id, user, f"And what do we eat? {food}[[tokens=3]]")
    reply_call, summary_call = fake_env.chat_requests[2:]
    opening = reply_call["messages"][0]
    assert opening["role"] == "system" and opening["text"].endswith(SUMMED_UP)
    assert opening["text"].startswith(f"The {kept.covered:,} earliest messages of this conversation")
    assert reply_call["messages"][1]["role"] == "user"
    assert second.summarized_messages == kept.covered <= second.left_out_messages
    assert second.summary_id == kept.id  # which people can read from the reply's note
    assert context_note(second).startswith(
        f"Used the last {second.prompt_messages:,} messages, and a summary of "
    )
    assert second.input_tokens == sum(len(m["text"].split()) for m in reply_call["messages"])
    # ... and the next summary carries this one forward, from where it ended.
    assert summary_call["messages"][1]["text"].startswith(f"The summary so far:\n\n{SUMMED_UP}\n\n")
    assert f"message {kept.depth + 1}: " in summary_call["messages"][1]["text"]
    assert f"message {kept.depth}: " not in summary_call["messages"][1]["text"]
    newer = _summaries(engine)[-1]
    assert newer.depth > kept.depth and newer.covered == kept.covered + (newer.depth - kept.depth)
    with Session(engine) as session:
        spent = session.exec(select(SpendRecord)).all()
    assert len(spent) == 2 and all(s.amount > 0 for s in spent)  # the two summaries' calls


async def test_a_chat_long_past_its_window_is_summed_up_from_its_start_skipping_nothing(
    engine, fake_env, configure, small_window, monkeypatch
):
    configure(SUMMARY_MODEL="openai/gpt-4o-mini")
    monkeypatch.setattr(summary_calls, "CALL_CHARS", 2_000)  # five of this chat's messages a call
    chat_id, user = _long_chat(engine)
    first = await _send(engine, chat_id, user, "Where do we stay? [[tokens=3]]")
    (kept,) = _summaries(engine)
    assert kept.depth == kept.covered == 5 < first.left_out_messages  # the oldest, not the newest
    shown = fake_env.chat_requests[1]["messages"][1]["text"]
    assert shown.startswith("The conversation:\n\nUser: message 1: ")
    assert "message 5: " in shown and "message 6: " not in shown

    second = await _send(engine, chat_id, user, "And where do we eat? [[tokens=3]]")
    assert second.summarized_messages == 5  # the summary there is, however far above
    newer = _summaries(engine)[-1]
    assert newer.depth == newer.covered == 10
    shown = fake_env.chat_requests[-1]["messages"][1]["text"]
    assert shown.startswith(f"The summary so far:\n\n{SUMMED_UP}\n\nThe conversation after it:\n\n")
    assert "\n\nAssistant: message 6: " in shown and "message 5: " not in shown


async def test_summaries_are_off_unless_an_operator_turns_them_on(engine, fake_env, small_window):
    chat_id, user = _long_chat(engine)
    reply = await _send(engine, chat_id, user, "Where do we stay? [[tokens=3]]")
    assert reply.left_out_messages > 0
    assert len(fake_env.chat_requests) == 1 and _summaries(engine) == []


async def test_nobody_able_to_pay_means_no_summary(engine, fake_env, configure, small_window):
    configure(SUMMARY_MODEL="deepseek/deepseek-chat", DEEPSEEK_API_KEY="")  # nor the server nor the person
    chat_id, user = _long_chat(engine)
    await _send(engine, chat_id, user, "Where do we stay? [[tokens=3]]")
    assert len(fake_env.chat_requests) == 1 and _summaries(engine) == []


def test_a_summary_serves_the_branches_below_its_message_and_no_other(session, configure):
    configure(SUMMARY_MODEL="cheapest")
    user = make_user(session)
    chat = make_chat(session, user)
    trunk = [Message(chat_id=chat.id, seq=n, role="user", content=f"m{n}") for n in range(1, 5)]
    branches.chain(chat, trunk)
    other = Message(chat_id=chat.id, seq=5, role="user", content="another version of m4")
    branches.attach(other, trunk[2])
    session.add_all([chat, *trunk, other])
    session.flush()
    for message, text in ((trunk[1], "up to m2"), (trunk[3], "up to m4")):
        session.add(
            ConversationSummary(
                message_id=message.id,
                chat_id=chat.id,
                depth=message.depth,
                covered=2,
                content=text,
                model_id="x",
            )
        )
    session.commit()

    def nearest(message: Message) -> str | None:
        found = summaries.summary_above(message.id, session=session)
        return found.content if found else None

    assert nearest(trunk[3]) == "up to m4"  # its own
    assert nearest(other) == "up to m2"  # m4's is of another branch
    assert nearest(trunk[0]) is None
    configure(SUMMARY_MODEL="off")
    assert nearest(trunk[3]) is None  # off: none is sent


async def test_a_chat_deleted_meanwhile_takes_its_summaries_with_it(
    engine, fake_env, configure, small_window
):
    configure(SUMMARY_MODEL="openai/gpt-4o-mini")
    chat_id, user = _long_chat(engine)
    await _send(engine, chat_id, user, "Where do we stay? [[tokens=3]]")
    assert _summaries(engine)
    with Session(engine) as session:
        session.delete(session.get(Chat, chat_id))
        session.commit()
    assert _summaries(engine) == []


async def test_a_summary_written_twice_at_once_is_kept_once_and_both_calls_are_paid(
    engine, fake_env, configure, small_window
):
    """Two replies of the chat ending together may plan the same summary: the second is let go."""
    configure(SUMMARY_MODEL="openai/gpt-4o-mini")
    chat_id, user = _long_chat(engine)
    configure(SUMMARY_MODEL="off")  # the reply's own summary call is made by hand below
    reply = await _send(engine, chat_id, user, "Where do we stay? [[tokens=3]]")
    configure(SUMMARY_MODEL="openai/gpt-4o-mini")
    with Session(engine) as session:
        call = summary_calls.plan(reply.id, session=session)
    assert call is not None
    answer = side_calls.Answer("Lisbon in May.", 0.0001)
    assert summary_calls._save(call, answer, engine) is not None
    assert summary_calls._save(call, answer, engine) is None
    (kept,) = _summaries(engine)
    assert kept.content == "Lisbon in May." and kept.message_id == call.last.id
    with Session(engine) as session:
        assert len(session.exec(select(SpendRecord)).all()) == 2


def _summed_up_chat(session: Session, owner: User) -> tuple[Chat, Message, ConversationSummary]:
    """Twelve messages, the first six summed up, and a reply at the end sent with that summary."""
    chat = make_chat(session, owner)
    written = write_conversation(session, chat, [f"m{n}" for n in range(1, 13)])
    session.flush()
    summary = ConversationSummary(
        message_id=written[5].id,
        chat_id=chat.id,
        depth=6,
        covered=6,
        content="up to m6",
        model_id="openai/gpt-4o-mini",
    )
    session.add(summary)
    written[-1].summary_id, written[-1].summarized_messages = summary.id, 6
    session.add(written[-1])
    session.commit()
    return chat, written[-1], summary


def test_whoever_may_read_the_chat_reads_the_summary_a_reply_was_sent_with(session):
    owner, stranger = make_user(session), make_user(session)
    chat, reply, summary = _summed_up_chat(session, owner)

    shown = chats.summary_sent_with(owner, str(chat.id), str(reply.id), session=session)
    assert shown["content"] == "up to m6" and shown["covered"] == 6
    assert shown["model_id"] == "openai/gpt-4o-mini" and shown["model_name"] == "GPT-4o mini"
    assert chats.message_views([reply], session=session)[0]["summary_id"] == str(summary.id)

    with pytest.raises(access.NoAccess):  # a chat one may not read tells nothing of its summaries
        chats.summary_sent_with(stranger, str(chat.id), str(reply.id), session=session)
    with pytest.raises(access.NoAccess):
        chats.summary_sent_with(None, str(chat.id), str(reply.id), session=session)
    others, _, _ = _summed_up_chat(session, stranger)
    with pytest.raises(NotFound, match="not in this chat"):  # a reply of another chat, by its id
        chats.summary_sent_with(stranger, str(others.id), str(reply.id), session=session)
    unsent = session.exec(select(Message).where(Message.chat_id == chat.id, Message.seq == 11)).one()
    for message_id in (str(unsent.id), "not-an-id"):
        with pytest.raises(NotFound):
            chats.summary_sent_with(owner, str(chat.id), message_id, session=session)


def test_a_prompt_fitted_again_around_its_summary_reads_no_message_twice(
    engine, fake_env, configure, small_window
):
    """The turns read to find what is left out are the ones fitted again around the summary."""
    configure(SUMMARY_MODEL="openai/gpt-4o-mini")
    chat_id, user = _long_chat(engine)
    with Session(engine, expire_on_commit=False) as session:
        chat = session.get(Chat, chat_id)
        assert chat is not None
        cut = session.exec(select(Message).where(Message.chat_id == chat_id, Message.seq == 20)).one()
        session.add(
            ConversationSummary(
                message_id=cut.id, chat_id=chat_id, depth=cut.depth, covered=20, content="x", model_id="x"
            )
        )
        session.commit()
        _, reply = chats.post_message(user, chat_id, "and then?", session=session)
        model = catalog.resolve_model("openai/gpt-4o", session=session)
        assert model is not None
        walks: list[str] = []

        def count(_conn, _cursor, statement: str, *_rest) -> None:
            if "RECURSIVE" in statement:
                walks.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            fitted = chats.fitted_prompt(reply, model, session=session)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert fitted.summary is not None and reply.summary_id is not None
        assert reply.prompt_messages and reply.prompt_messages < EARLIER - 20
        # one walk up the branch for the turns (one page holds them all), one for the summary
        assert len(walks) == 2
