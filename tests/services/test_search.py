"""Search over one's chats: titles and finished messages, through each database's full-text index."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from chat_app.models import Chat, Message, SharedAccess, User, utcnow
from chat_app.services import chats, search
from chat_app.services.errors import Invalid
from tests.support.factories import make_chat, make_user


def _say(session: Session, chat: Chat, *texts: str, status: str = "complete") -> list[Message]:
    """Messages appended to the chat, a minute apart, the last the newest."""
    start = session.execute(
        sa.select(sa.func.coalesce(sa.func.max(Message.seq), 0)).where(Message.chat_id == chat.id)
    ).scalar_one()
    now = utcnow()
    said = [
        Message(
            chat_id=chat.id,
            seq=start + i + 1,
            role="user" if (start + i) % 2 == 0 else "assistant",
            content=text,
            status=status,
            created_at=now - timedelta(minutes=len(texts) - i),
        )
        for i, text in enumerate(texts)
    ]
    session.add_all(said)
    session.commit()
    return said


def _found(person: User, query: str, session: Session) -> list[tuple[str | None, str]]:
    """(message id, snippet with [matches]) per result."""
    return [
        (r["message_id"], "".join(f"[{p['text']}]" if p["hit"] else p["text"] for p in r["snippet"]))
        for r in search.search(person, query, session=session)
    ]


@pytest.fixture
def person(session) -> User:
    return make_user(session)


def test_every_word_is_needed_as_the_start_of_a_word_newest_first(session, person):
    chat = make_chat(session, person)
    older, newer, _ = _say(
        session,
        chat,
        "The quick brown fox jumps over the lazy dog",
        "Foxes are quick; dogs are loyal",
        "Nothing to see here",
    )
    assert _found(person, "quick fox", session) == [
        (str(newer.id), "[Foxes] are [quick]; dogs are loyal"),
        (str(older.id), "The [quick] brown [fox] jumps over the lazy dog"),
    ]
    assert _found(person, "fox cat", session) == []  # every word, not any
    assert _found(person, "ox", session) == []  # the start of a word, not its middle


def test_chat_titles_match_before_messages(session, person):
    chat = make_chat(session, person)
    chats.rename_chat(person, chat.id, "Holiday planning", session=session)
    session.commit()
    (said,) = _say(session, chat, "Where shall we go on holiday?")
    results = search.search(person, "holiday", session=session)
    assert [(r["message_id"], r["chat_title"]) for r in results] == [
        (None, "Holiday planning"),
        (str(said.id), "Holiday planning"),
    ]
    assert results[0]["snippet"] == [{"text": "Holiday", "hit": True}, {"text": " planning", "hit": False}]


def test_only_chats_one_reads_as_a_member(session, person):
    mine = make_chat(session, person)
    _say(session, mine, "zebra of mine")
    stranger = make_user(session)
    theirs = make_chat(session, stranger)
    _say(session, theirs, "zebra of theirs")
    shared = make_chat(session, stranger)
    _say(session, shared, "zebra shared with me")
    public = make_chat(session, stranger)
    public.is_public = True
    session.add_all([public, SharedAccess(chat_id=shared.id, email=person.email, user_id=person.id)])
    session.commit()
    _say(session, public, "zebra in public")
    assert sorted(snippet for _, snippet in _found(person, "zebra", session)) == [
        "[zebra] of mine",
        "[zebra] shared with me",
    ]


def test_a_reply_is_found_once_it_is_finished_and_as_it_is_now(session, person):
    chat = make_chat(session, person)
    (reply,) = _say(session, chat, "half a thought about giraffes", status="streaming")
    assert _found(person, "giraffes", session) == []  # being written: not in the index yet
    reply.status, reply.content = "complete", "a whole thought about giraffes and okapis"
    session.add(reply)
    session.commit()
    assert _found(person, "okapi", session) == [
        (str(reply.id), "a whole thought about giraffes and [okapis]")
    ]
    reply.content = "rewritten: elephants only"
    session.add(reply)
    session.commit()
    assert _found(person, "giraffes", session) == []
    assert len(_found(person, "elephants", session)) == 1
    chats.delete_chat(person, chat.id, session=session)
    session.commit()
    assert _found(person, "elephants", session) == []


def test_any_language_and_no_query_syntax(session, person):
    chat = make_chat(session, person)
    _say(session, chat, "привет, как дела", 'quote " star * and OR NOT near')
    assert [s for _, s in _found(person, "прив", session)] == ["[привет], как дела"]
    assert len(_found(person, '"star* OR near', session)) == 1  # words only: all three are there
    assert len(_found(person, "star NOT near", session)) == 1  # NOT is a word here, not an operator


def test_an_underscore_in_a_title_is_a_letter_not_a_wildcard(session, person):
    for title in ("snake_case notes", "snakeXcase notes"):
        chats.rename_chat(person, make_chat(session, person).id, title, session=session)
    session.commit()
    assert [r["chat_title"] for r in search.search(person, "snake_case", session=session)] == [
        "snake_case notes"
    ]


@pytest.mark.parametrize("query", ["", "   ", "!!!", "x" * 201])
def test_a_query_without_words_or_too_long_is_refused(session, person, query):
    with pytest.raises(Invalid):
        search.search(person, query, session=session)


def test_the_number_of_results_is_bounded(session, person):
    chat = make_chat(session, person)
    _say(session, chat, *[f"lemur number {i}" for i in range(30)])
    assert len(search.search(person, "lemur", session=session, limit=25)) == 25
    for limit in (0, 51):
        with pytest.raises(Invalid):
            search.search(person, "lemur", session=session, limit=limit)
