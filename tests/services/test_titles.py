"""A chat's title written by a cheap model from its first exchange, in the background."""

import uuid

import pytest
from sqlmodel import Session, select

from chat_app.models import Chat, SpendRecord, User
from chat_app.services import chats, keys, replies, side_calls, titles
from chat_app.services.llm import Deadlines
from tests.support.factories import make_chat, make_user
from tests.support.live import live_events
from tests.support.waiting import wait_for_reply_job

FAST = Deadlines(first_token=3, chunk_gap=2, total=30)


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ("Weekend plans", "Weekend plans"),
        ('"Weekend plans."', "Weekend plans"),
        ("Title: **Weekend   plans**\nThe user asks…", "Weekend plans"),
        ("\n\n  “Plans pour le week-end”  ", "Plans pour le week-end"),
        ("A " + "very " * 30 + "long title", "A" + " very" * 11 + "…"),  # as long as first words may be
        ('""', ""),
    ],
)
def test_an_answer_is_cleaned_into_a_title(answer, title):
    assert titles.cleaned(answer) == title


def _first_exchange(engine, text: str, model_id: str = "openai/gpt-4o") -> tuple[uuid.UUID, str]:
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user, model_id=model_id)
        _, reply = chats.post_message(user, chat.id, text, session=session)
        session.commit()
        return chat.id, str(reply.id)


def _chat(engine, chat_id: uuid.UUID) -> Chat:
    with Session(engine) as session:
        chat = session.get(Chat, chat_id)
        assert chat is not None
        return chat


async def _titles_written() -> None:
    await side_calls.all_finished()


async def test_the_first_reply_names_the_chat_with_the_cheapest_model(engine, fake_env, configure):
    configure(TITLE_MODEL="")  # unset: the cheapest text model the payer can use
    chat_id, reply_id = _first_exchange(engine, "What shall we do on Saturday? [[title=Weekend plans]]")
    assert _chat(engine, chat_id).title == "What shall we do on Saturday? [[title=Weekend plans]]"
    async with live_events(str(chat_id)) as events:
        replies.start_reply(str(chat_id), reply_id, deadlines=FAST, engine=engine)
        await wait_for_reply_job(reply_id)
        await _titles_written()
    assert _chat(engine, chat_id).title == "Weekend plans"
    assert {"type": "title", "title": "Weekend plans"} in events
    asked = fake_env.chat_requests[-1]
    assert asked["model"] == "gpt-4o-mini"  # the cheapest text model in the catalog, by its prices
    assert asked["json"]["max_tokens"] == titles.MOST_TOKENS
    assert asked["messages"][0]["role"] == "system" and "title" in asked["messages"][0]["text"]
    assert "What shall we do on Saturday?" in asked["messages"][1]["text"]
    with Session(engine) as session:
        spent = session.exec(select(SpendRecord)).all()
    assert len(spent) == 1 and spent[0].amount > 0 and not spent[0].paid_with_own_key


def _owner(session: Session, chat_id: uuid.UUID) -> User:
    chat = session.get(Chat, chat_id)
    assert chat is not None
    owner = session.get(User, chat.user_id)
    assert owner is not None
    return owner


async def _reply_and_title(engine, chat_id: uuid.UUID, reply_id: str) -> None:
    replies.start_reply(str(chat_id), reply_id, deadlines=FAST, engine=engine)
    await wait_for_reply_job(reply_id)
    await _titles_written()


async def test_a_chat_renamed_before_its_title_comes_keeps_its_name(engine, fake_env, configure):
    configure(TITLE_MODEL="openai/gpt-4o-mini")
    chat_id, reply_id = _first_exchange(engine, "hello [[title=Greetings]]")
    with Session(engine) as session:
        chats.rename_chat(_owner(session, chat_id), chat_id, "Mine", session=session)
        session.commit()
    await _reply_and_title(engine, chat_id, reply_id)
    assert _chat(engine, chat_id).title == "Mine"
    assert len(fake_env.chat_requests) == 1  # the reply's own call, no title call


async def test_a_rename_during_the_call_wins(engine, fake_env, configure):
    chat_id, reply_id = _first_exchange(engine, "hello [[title=Greetings]] [[tokens=1]]")
    replies.start_reply(str(chat_id), reply_id, deadlines=FAST, engine=engine)
    await wait_for_reply_job(reply_id)  # titles off meanwhile: the call is made by hand below
    configure(TITLE_MODEL="openai/gpt-4o-mini")
    with Session(engine) as session:
        call = titles.plan(uuid.UUID(reply_id), session=session)
        assert call is not None
        chats.rename_chat(_owner(session, chat_id), chat_id, "Renamed meanwhile", session=session)
        session.commit()
    assert titles._save(call, "Greetings", 0.0001, engine) is False
    assert _chat(engine, chat_id).title == "Renamed meanwhile"


async def test_only_the_first_reply_names_a_chat(engine, fake_env, configure):
    configure(TITLE_MODEL="openai/gpt-4o-mini")
    chat_id, first = _first_exchange(engine, "first [[title=First things]]")
    await _reply_and_title(engine, chat_id, first)
    assert _chat(engine, chat_id).title == "First things"
    with Session(engine) as session:
        _, second = chats.post_message(
            _owner(session, chat_id), chat_id, "second [[title=Nope]]", session=session
        )
        session.commit()
        second_id = str(second.id)
        assert titles.plan(second.id, session=session) is None
    await _reply_and_title(engine, chat_id, second_id)
    assert _chat(engine, chat_id).title == "First things"


async def test_the_askers_own_key_pays_for_the_title(engine, fake_env, configure):
    configure(TITLE_MODEL="deepseek/deepseek-chat", DEEPSEEK_API_KEY="")  # the server has no key
    chat_id, reply_id = _first_exchange(engine, "hi [[title=Hello there]]")
    with Session(engine) as session:
        assert titles.plan(uuid.UUID(reply_id), session=session) is None  # nobody can pay: first words stay
        keys.set_key(_owner(session, chat_id), "deepseek", "sk-my-own-deepseek", session=session)
        session.commit()
    await _reply_and_title(engine, chat_id, reply_id)
    assert _chat(engine, chat_id).title == "Hello there"
    asked = fake_env.chat_requests[-1]
    assert asked["headers"]["authorization"] == "Bearer sk-my-own-deepseek"
    with Session(engine) as session:
        spent = session.exec(select(SpendRecord)).one()
    assert spent.paid_with_own_key


@pytest.mark.parametrize("setting", ["off", "anthropic/no-such-model", "replicate/stability-ai/sdxl"])
async def test_titles_off_or_an_unusable_model_leave_the_first_words(engine, fake_env, configure, setting):
    configure(TITLE_MODEL=setting)
    chat_id, reply_id = _first_exchange(engine, "hi there [[title=Never]]")
    await _reply_and_title(engine, chat_id, reply_id)
    assert _chat(engine, chat_id).title == "hi there [[title=Never]]"
    assert len(fake_env.chat_requests) == 1


async def test_titles_off_cost_a_first_reply_nothing(engine, fake_env, configure):
    """Off, no title task starts, so nothing is read for one after each new chat's first reply."""
    configure(TITLE_MODEL="off")
    _, reply_id = _first_exchange(engine, "hi there [[title=Never]]")
    titles.start(reply_id, engine)
    assert not side_calls.running()
    configure(TITLE_MODEL="openai/gpt-4o-mini")
    titles.start(reply_id, engine)
    assert side_calls.running()
    await _titles_written()


async def test_a_person_past_their_allowance_gets_no_title_call(engine, fake_env, configure):
    chat_id, reply_id = _first_exchange(engine, "hi [[title=Costly]]")
    replies.start_reply(str(chat_id), reply_id, deadlines=FAST, engine=engine)
    await wait_for_reply_job(reply_id)  # titles off meanwhile: the plan is asked for below
    configure(TITLE_MODEL="openai/gpt-4o-mini")
    with Session(engine) as session:
        owner = _owner(session, chat_id)
        owner.monthly_spend_limit = 0.000001  # less than the reply itself cost
        session.add(owner)
        session.commit()
        assert titles.plan(uuid.UUID(reply_id), session=session) is None
        owner.monthly_spend_limit = None
        session.add(owner)
        assert titles.plan(uuid.UUID(reply_id), session=session) is not None  # the default allows it
