"""A prompt fitted to the model's window: the newest turns whole, older attachments before older
text, the asking message refused when it alone is too long, counted per provider family."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlmodel import Session

from chat_app.catalog import CatalogModel, shipped
from chat_app.models import MediaFile, Message
from chat_app.services import branches, chats, context_fit
from chat_app.services.catalog import resolve_model
from chat_app.services.errors import Invalid
from chat_app.services.litellm_loader import load_litellm
from tests.support.factories import make_chat, make_user
from tests.support.statements import statements_run

WORDS = "the quick brown fox jumps over the lazy dog while seven zebras quietly graze "
FAMILIES = [
    "openai/gpt-4o",
    "anthropic/claude-sonnet-4-5",
    "gemini/gemini-2.5-flash",
    "deepseek/deepseek-chat",
    "ollama/llama3.1",
]


def catalog_model(model_id: str, window: int) -> CatalogModel:
    """A model of the shipped catalog with a small window, so a test's chat outgrows it."""
    if model_id.startswith("ollama/"):  # found on the operator's Ollama, not shipped
        name = model_id.split("/", 1)[1]
        return CatalogModel(model_id, name, "ollama", "Ollama", litellm_model=model_id, context_window=window)
    model = next(m for m in shipped()[1] if m.id == model_id)
    return dataclasses.replace(model, context_window=window)


def turn(role: str, text: str, files: list[MediaFile] | None = None) -> context_fit.Turn:
    return context_fit.Turn(uuid.uuid4(), role, text, files or [])


def image(width: int = 1024, height: int = 1024) -> MediaFile:
    return MediaFile(
        kind="image",
        mime_type="image/png",
        byte_size=1,
        width=width,
        height=height,
        sha256="",
        storage_key="",
    )


def conversation(pairs: int, words_each: int) -> list[context_fit.Turn]:
    """user/assistant turns, oldest first, ending with the asking user turn."""
    out = []
    for n in range(pairs):
        out.append(turn("user", f"question {n}: " + WORDS * words_each))
        out.append(turn("assistant", f"answer {n}: " + WORDS * words_each))
    out.append(turn("user", "and now?"))
    return out


def counted(model: CatalogModel, turns: list[context_fit.Turn]) -> int:
    litellm = load_litellm()
    name = model.litellm_model or model.id
    return sum(litellm.token_counter(model=name, text=t.text) + context_fit.MESSAGE_OVERHEAD for t in turns)


def fit(turns: list[context_fit.Turn], model: CatalogModel, budget: int) -> context_fit.Fitted:
    return context_fit.fit(reversed(turns), model, budget, count=len(turns))


def test_a_chat_that_fits_goes_whole_without_a_tokenizer(monkeypatch):
    model = catalog_model("openai/gpt-4o", 128_000)
    monkeypatch.setattr(context_fit, "_counted", lambda *_: pytest.fail("counted a chat that fits"))
    turns = conversation(10, 3)
    fitted = fit(turns, model, 100_000)
    assert [t.text for t in fitted.turns] == [t.text for t in turns]
    assert fitted.left_out_messages == 0 and fitted.left_out_files == 0


@pytest.mark.parametrize("model_id", FAMILIES)
def test_the_newest_turns_that_fit_are_sent_counted_by_the_models_tokenizer(model_id):
    model = catalog_model(model_id, 4_000)
    turns = conversation(40, 12)  # about 60 tokens a turn, 81 turns: far past 2,000
    fitted = fit(turns, model, 2_000)
    sent = fitted.turns
    assert sent == turns[-len(sent) :]  # the newest, in order, none cut
    assert sent[0].role == "user" and sent[-1].text == "and now?"
    assert fitted.left_out_messages == len(turns) - len(sent) > 0
    # As many as fit by LiteLLM's count for this model, and not one more.
    assert counted(model, sent) <= 2_000 < counted(model, turns[-len(sent) - 2 :])


@pytest.mark.parametrize("model_id", FAMILIES)
def test_older_attachments_go_before_older_text(model_id):
    model = catalog_model(model_id, 8_000)
    turns = conversation(3, 5)
    for earlier in turns[0], turns[2], turns[4]:  # the user turns before the asking one
        earlier.files = [image()]  # 765 tokens each, by OpenAI's tiling of 1024 x 1024
    assert context_fit.file_tokens(image()) == 765
    text = counted(model, turns)
    fitted = fit(turns, model, text + 2 * 765 + 100)  # room for the text and two of the three images
    assert len(fitted.turns) == len(turns) and fitted.left_out_messages == 0
    assert [len(t.files) for t in fitted.turns if t.role == "user"] == [0, 1, 1, 0]
    assert fitted.left_out_files == 1


@pytest.mark.parametrize("model_id", FAMILIES)
def test_a_message_too_long_for_the_model_is_refused(model_id):
    model = catalog_model(model_id, 4_000)
    with pytest.raises(Invalid) as refused:
        fit([turn("user", WORDS * 400)], model, 2_000)
    assert refused.value.code == context_fit.TOO_LONG
    assert str(refused.value).startswith(f"This message is too long for {model.name}: it is about ")
    assert "choose a model with a larger context window" in str(refused.value)


def test_the_conversation_sent_opens_with_a_person():
    model = catalog_model("anthropic/claude-sonnet-4-5", 4_000)
    turns = conversation(20, 12)
    room = counted(model, turns[-4:])  # the newest four turns end ... assistant, user: 4 fit
    fitted = fit(turns, model, room + 70)  # a fifth (an assistant's) would fit too, but not a sixth
    assert fitted.turns[0].role == "user" and len(fitted.turns) % 2 == 1


@pytest.mark.parametrize("model_id", FAMILIES)
def test_a_summary_opens_the_prompt_in_room_taken_from_the_turns(model_id):
    model = catalog_model(model_id, 4_000)
    turns = conversation(40, 12)
    without = fit(turns, model, 2_000)
    assert without.first_left_out is turns[-len(without.turns) - 1]  # the newest turn not sent
    summary = turn("system", "what was said before: " + WORDS * 40)  # about 600 tokens
    fitted = context_fit.fit(reversed(turns), model, 2_000, count=len(turns), summary=summary, summarized=9)
    assert fitted.summary is summary and fitted.summarized == 9
    assert fitted.turns == turns[-len(fitted.turns) :] and fitted.turns[0].role == "user"
    assert len(fitted.turns) < len(without.turns)
    assert fitted.first_left_out is turns[-len(fitted.turns) - 1]
    assert counted(model, [summary, *fitted.turns]) <= 2_000  # by the model's own tokenizer
    assert fitted.exact_tokens(model.litellm_model or model.id) == counted(model, [summary, *fitted.turns])


def test_a_summary_is_left_out_when_the_asking_message_leaves_no_room_for_it():
    model = catalog_model("openai/gpt-4o", 4_000)
    asking = turn("user", WORDS * 40)
    summary = turn("system", WORDS * 20)
    room = counted(model, [asking]) + 10
    fitted = context_fit.fit([asking, turn("assistant", "earlier")], model, room, count=2, summary=summary)
    assert fitted.summary is None and fitted.summarized == 0 and fitted.turns == [asking]


def test_the_budget_leaves_room_for_the_reply_and_a_margin():
    gpt = catalog_model("openai/gpt-4o", 128_000)
    budget = context_fit.budget_for(gpt, 16_384)
    assert budget.for_input == 128_000 - 16_384 - 2_560
    small = context_fit.budget_for(catalog_model("ollama/llama3.1", 8_192), 8_192)
    assert small.reply_allowance == 2_048  # a quarter of the window, at most
    assert context_fit.budget_for(dataclasses.replace(gpt, context_window=None), None).window == 8_192


def test_a_chat_of_thousands_of_long_messages_reads_only_what_fits(engine):
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user, model_id="openai/gpt-4o")
        long = WORDS * 60  # about 900 tokens
        written = [
            Message(chat_id=chat.id, seq=n, role="user" if n % 2 else "assistant", content=f"{n} {long}")
            for n in range(1, 3_001)
        ]
        reply = Message(chat_id=chat.id, seq=3_001, role="assistant", content="", status="pending")
        branches.chain(chat, [*written, reply])
        session.add_all([chat, *written, reply])
        session.commit()
        model = resolve_model("openai/gpt-4o", session=session)
        assert model is not None
        with statements_run(engine) as run:
            prompt = chats.prompt_for(reply, model, session=session)
    reads = [s for s in run if s.text.lstrip().upper().startswith("SELECT") and "FROM messages" in s.text]
    assert len(reads) <= 4  # a page or two of 200, not 3,000 rows
    assert prompt[-1]["content"].startswith("3000 ") and 100 < len(prompt) < 200
    assert reply.prompt_messages == len(prompt)
    assert reply.left_out_messages == 3_000 - len(prompt)


def test_the_note_on_a_reply_says_what_was_left_out():
    from chat_app.services.views import context_note

    assert context_note(Message(chat_id=uuid.uuid4(), seq=2, role="assistant")) == ""
    note = context_note(
        Message(chat_id=uuid.uuid4(), seq=9, role="assistant", prompt_messages=12, left_out_messages=30)
    )
    assert note == (
        "Used the last 12 messages; 30 earlier messages did not fit the model's context window "
        "and were not sent."
    )
    both = Message(
        chat_id=uuid.uuid4(),
        seq=9,
        role="assistant",
        prompt_messages=3,
        left_out_messages=1,
        left_out_files=2,
    )
    assert context_note(both) == (
        "Used the last 3 messages; 1 earlier message and 2 files did not fit the model's context "
        "window and were not sent."
    )
    summed_up = Message(
        chat_id=uuid.uuid4(),
        seq=9,
        role="assistant",
        prompt_messages=12,
        left_out_messages=30,
        summarized_messages=30,
    )
    assert context_note(summed_up) == (
        "Used the last 12 messages, and a summary of the 30 earlier messages: those did not fit the "
        "model's context window."
    )
    summed_up.summarized_messages, summed_up.left_out_files = 28, 1
    assert context_note(summed_up) == (
        "Used the last 12 messages, and a summary of 28 earlier messages; 2 other earlier messages "
        "and 1 file did not fit the model's context window and were not sent."
    )
