"""Chat completions for programs: requests read strictly, planned through the catalog, keys and
budgets, run through LiteLLM against the local fake provider, charged, and kept as a chat when
asked."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlmodel import Session, col, select

from chat_app.models import Chat, Message, SpendRecord, User
from chat_app.services import budgets, completions, keys, llm
from chat_app.services.errors import Invalid, LimitReached, NotFound
from tests.support.factories import make_user

HELLO = [{"role": "user", "content": "hello [[tokens=4]]"}]


def _request(**fields) -> completions.CompletionRequest:
    return completions.read_request({"model": "openai/gpt-4o", "messages": HELLO, **fields})


# ----- reading --------------------------------------------------------------------------------------


def test_a_request_is_read_as_openai_clients_send_it():
    request = completions.read_request(
        {
            "model": " openai/gpt-4o ",
            "messages": [
                {"role": "developer", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
                },
                {"role": "assistant", "content": "ok", "name": "bot"},
                {"role": "user", "content": "three"},
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 50,
            "max_completion_tokens": 40,
            "temperature": 0.2,
            "stop": "END",
            "seed": 7,
            "user": "someone",  # OpenAI's own field, of no use here: ignored
            "save": True,
        }
    )
    assert request.model_id == "openai/gpt-4o"
    assert request.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one\ntwo"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "three"},
    ]
    assert (request.stream, request.include_usage, request.save) == (True, True, True)
    assert request.max_tokens == 40  # OpenAI's newer name wins
    assert request.sampling == {"temperature": 0.2, "seed": 7, "stop": ["END"]}


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"model": ""}, "Name the model"),
        ({"model": 5}, "Name the model"),
        ({"messages": []}, "Send the conversation"),
        ({"messages": "hi"}, "Send the conversation"),
        ({"messages": ["hi"]}, "Message 1 is not an object"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "tools are not supported"),
        ({"messages": [{"role": "user"}]}, "Message 1 has no text"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "text turns only"),
        ({"messages": [{"role": "assistant", "content": None, "tool_calls": [{}]}]}, "calls tools"),
        ({"tools": [{"type": "function"}]}, "`tools` are not supported"),
        ({"n": 2}, "One choice"),
        ({"logprobs": True}, "Log probabilities"),
        ({"response_format": {"type": "json_object"}}, "plain text"),
        ({"stream": "yes"}, "`stream` as true or false"),
        ({"stream_options": []}, "`stream_options` as an object"),
        ({"save": 1}, "`save` as true or false"),
        ({"max_tokens": 0}, "at least 1"),
        ({"max_tokens": 2.5}, "at least 1"),
        ({"temperature": 3}, "from 0 to 2"),
        ({"temperature": True}, "from 0 to 2"),
        ({"top_p": float("nan")}, "from 0 to 1"),
        ({"seed": "7"}, "whole number"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "at most 4"),
        ({"stop": [""]}, "`stop` as a string"),
    ],
)
def test_a_request_this_server_cannot_answer_faithfully_is_refused_with_a_sentence(fields, said):
    body = {"model": "openai/gpt-4o", "messages": HELLO, **fields}
    with pytest.raises(Invalid) as refused:
        completions.read_request(body)
    assert said in str(refused.value) and str(refused.value).endswith(".")


# ----- planning -------------------------------------------------------------------------------------


def test_only_usable_text_models_are_offered_and_planned(session, app_settings, fake_env, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY")
    person = make_user(session)
    offered = {m["id"] for m in completions.usable_models(person, session=session)}
    assert "openai/gpt-4o" in offered and "deepseek/deepseek-chat" not in offered
    assert not any(m.startswith("replicate/") for m in offered)
    for model_id, code in [
        ("nobody/nothing", "model_not_found"),
        ("replicate/stability-ai/sdxl", "model_not_found"),
        ("deepseek/deepseek-chat", "model_not_available"),
    ]:
        with pytest.raises(NotFound) as refused:
            completions.plan(person, _request(model=model_id), session=session)
        assert refused.value.code == code
    keys.set_key(person, "deepseek", "sk-own-deepseek-key", session=session)
    assert "deepseek/deepseek-chat" in {m["id"] for m in completions.usable_models(person, session=session)}
    call = completions.plan(person, _request(model="deepseek/deepseek-chat"), session=session)
    assert call.own_key == "sk-own-deepseek-key" and call.budget.own_key  # their key first


def test_a_person_past_their_monthly_allowance_is_refused_before_any_provider_call(
    session, app_settings, fake_env, configure
):
    configure(MONTHLY_SPEND_PER_PERSON="1")
    make_user(session, "operator@example.com")  # the first account: an administrator, unlimited
    person = make_user(session)
    session.add(SpendRecord(user_id=person.id, amount=1.5, spent_at=budgets.month_start()))
    session.commit()
    with pytest.raises(LimitReached) as refused:
        completions.plan(person, _request(), session=session)
    assert refused.value.code == budgets.MONTHLY_SPEND
    assert fake_env.chat_requests == []


async def test_a_call_holds_a_place_in_flight_until_it_ends(engine, app_settings, fake_env, configure):
    configure(REPLIES_IN_FLIGHT_PER_PERSON="1")
    with Session(engine, expire_on_commit=False) as session:
        person = make_user(session)
        call = completions.plan(person, _request(), session=session)
        session.commit()
        assert budgets.standing(person, session=session)["replies_in_flight"] == 1
        with pytest.raises(LimitReached) as refused:
            completions.plan(person, _request(), session=session)  # nor may the app start one
        assert refused.value.code == budgets.REPLIES_IN_FLIGHT
    text, _ = await completions.start(call).whole()
    assert text == "tok1 tok2 tok3 tok4"
    assert budgets.api_calls_in_flight(person.id) == 0
    with Session(engine) as session:
        completions.plan(person, _request(), session=session)  # its place is free again


# ----- running --------------------------------------------------------------------------------------


def _planned(engine, request: completions.CompletionRequest) -> tuple[User, completions.Call]:
    with Session(engine, expire_on_commit=False) as session:
        person = make_user(session)
        call = completions.plan(person, request, session=session)
        session.commit()
        return person, call


async def test_a_whole_reply_is_charged_to_its_person(engine, app_settings, fake_env):
    person, call = _planned(engine, _request(temperature=0.5, max_tokens=30))
    text, ended = await completions.start(call).whole()
    assert text == "tok1 tok2 tok3 tok4"
    assert ended.finish_reason == "stop" and ended.output_tokens == 4 and ended.input_tokens > 0
    assert ended.chat_id is None
    sent = fake_env.chat_requests[-1]
    assert sent["json"]["temperature"] == 0.5 and sent["json"]["max_tokens"] == 30
    assert sent["headers"]["authorization"] == "Bearer sk-fake-openai"  # the server's key
    with Session(engine) as session:
        spent = session.exec(select(SpendRecord)).one()
        assert spent.user_id == person.id and not spent.paid_with_own_key
        assert spent.amount == pytest.approx(llm.reply_cost(call.model, ended.input_tokens, 4))
        assert budgets.spent_this_month(person.id, session=session) == pytest.approx(spent.amount)
        assert session.exec(select(Chat)).all() == []  # nothing kept unless asked


async def test_a_saved_exchange_is_a_new_chat_with_its_cost_on_the_reply(engine, app_settings, fake_env):
    turns = [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And of Italy? [[tokens=3]]"},
    ]
    person, call = _planned(engine, _request(messages=turns, save=True))
    text, ended = await completions.start(call).whole()
    with Session(engine) as session:
        chat = session.get(Chat, uuid.UUID(str(ended.chat_id)))
        assert chat is not None and chat.user_id == person.id
        assert chat.title == "What is the capital of France?" and chat.model_id == "openai/gpt-4o"
        rows = session.exec(
            select(Message).where(Message.chat_id == chat.id).order_by(col(Message.seq))
        ).all()
        assert [(m.seq, m.role, m.content) for m in rows] == [
            (1, "user", "What is the capital of France?"),
            (2, "assistant", "Paris."),
            (3, "user", "And of Italy? [[tokens=3]]"),
            (4, "assistant", text),
        ]
        reply = rows[-1]
        assert (reply.status, reply.author_id, reply.model_id) == ("complete", person.id, "openai/gpt-4o")
        assert reply.output_tokens == 3 and reply.cost and reply.cost > 0
        assert [m.author_id for m in rows[:3]] == [person.id, None, person.id]
        assert session.exec(select(SpendRecord)).all() == []  # counted once: on the reply
        assert budgets.spent_this_month(person.id, session=session) == pytest.approx(reply.cost)


async def test_a_reader_that_leaves_stops_the_call_and_is_charged_for_what_was_sent(
    engine, app_settings, fake_env
):
    person, call = _planned(
        engine, _request(messages=[{"role": "user", "content": "go [[tokens=200]] [[delay=0.05]]"}])
    )
    events = completions.start(call).events()
    first = await anext(events)
    assert isinstance(first, llm.TextDelta)
    await events.aclose()  # the program went away
    for _ in range(100):
        if budgets.api_calls_in_flight(person.id) == 0 and fake_env.chat_requests[-1].get("stream", {}).get(
            "ended_at"
        ):
            break
        await asyncio.sleep(0.05)
    stream = fake_env.chat_requests[-1]["stream"]
    assert stream["ended_at"] and not stream["finished"] and stream["sent"] < 200  # stopped upstream
    with Session(engine) as session:
        spent = session.exec(select(SpendRecord)).one()
    assert spent.user_id == person.id and spent.amount > 0  # the prompt and the text that came


async def test_a_provider_failure_is_a_sentence_and_costs_nothing_before_any_text(
    engine, app_settings, fake_env
):
    person, call = _planned(
        engine, _request(messages=[{"role": "user", "content": "hi [[error=500]]"}], save=True)
    )
    with pytest.raises(llm.ProviderError) as failed:
        await completions.start(call).whole()
    assert failed.value.kind == "server_error" and "OpenAI" in str(failed.value)
    with Session(engine) as session:
        assert session.exec(select(SpendRecord)).all() == []
        reply = session.exec(select(Message).where(Message.role == "assistant")).one()
        assert reply.status == "error" and reply.error == str(failed.value) and not reply.cost
    assert budgets.api_calls_in_flight(person.id) == 0
