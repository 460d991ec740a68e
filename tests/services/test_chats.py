import pytest
from sqlmodel import select

from chat_app.models import Message
from chat_app.services import chats
from chat_app.services.catalog import resolve_model
from chat_app.services.errors import Invalid, NotFound
from tests.support.factories import make_chat, make_user


def test_posting_saves_the_message_and_a_pending_reply_and_titles_the_chat(session, provider_env):
    user = make_user(session)
    chat = make_chat(session, user)
    mine, reply = chats.post_message(user, chat.id, "  How do   tides work?  ", session=session)
    session.commit()
    assert (mine.seq, mine.role, mine.content) == (1, "user", "How do   tides work?")
    assert (reply.seq, reply.role, reply.status, reply.model_id) == (
        2,
        "assistant",
        "pending",
        "openai/gpt-4o",
    )
    assert chat.title == "How do tides work?"


@pytest.mark.parametrize(("content", "match"), [("   ", "Write a message"), ("x" * 40, "limit is 30")])
def test_bad_messages_are_refused_and_nothing_is_saved(session, provider_env, content, match):
    user = make_user(session)
    chat = make_chat(session, user)
    with pytest.raises(Invalid, match=match):
        chats.post_message(user, chat.id, content, session=session, max_chars=30)
    assert session.exec(select(Message)).all() == []


def test_a_model_without_a_configured_provider_is_refused_with_the_reason(session, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    user = make_user(session)
    chat = make_chat(session, user, model_id="anthropic/claude-sonnet-4-5")
    with pytest.raises(Invalid, match="ANTHROPIC_API_KEY"):
        chats.post_message(user, chat.id, "hi", session=session)


def test_one_reply_at_a_time_then_regenerate_writes_a_new_version_beside_it(session, provider_env):
    user = make_user(session)
    chat = make_chat(session, user)
    _, reply = chats.post_message(user, chat.id, "first", session=session)
    session.commit()
    with pytest.raises(Invalid, match="still being written"):
        chats.post_message(user, chat.id, "second", session=session)
    reply.status, reply.content = "complete", "an answer"
    session.add(reply)
    session.commit()
    again = chats.regenerate_reply(user, chat.id, session=session)
    assert again.id != reply.id and again.status == "pending" and again.content == ""
    assert again.parent_id == reply.parent_id and again.depth == reply.depth == 2
    session.refresh(reply)
    assert reply.content == "an answer"  # the old version stays
    model = resolve_model(chat.model_id, session=session)
    assert model is not None
    assert chats.prompt_for(again, model, session=session) == [{"role": "user", "content": "first"}]


def test_list_rename_delete_and_strangers_get_not_found(session, provider_env):
    owner, stranger = make_user(session), make_user(session)
    older, newer = make_chat(session, owner), make_chat(session, owner)
    chats.post_message(owner, older.id, "bump", session=session)
    session.commit()
    listed = lambda user: chats.recent_chats(user, session=session, limit=50, pinned_too=True)[0]  # noqa: E731
    assert [c.id for c in listed(owner)] == [older.id, newer.id]
    assert listed(stranger) == []
    for action in (
        lambda: chats.rename_chat(stranger, older.id, "mine now", session=session),
        lambda: chats.delete_chat(stranger, older.id, session=session),
        lambda: chats.post_message(stranger, older.id, "hi", session=session),
        lambda: chats.rename_chat(owner, "not-a-uuid", "x", session=session),
    ):
        with pytest.raises(NotFound):
            action()
    with pytest.raises(Invalid):
        chats.rename_chat(owner, older.id, "   ", session=session)
    assert chats.rename_chat(owner, older.id, "  Tides  ", session=session).title == "Tides"
    chats.delete_chat(owner, older.id, session=session)
    session.commit()
    assert [c.id for c in listed(owner)] == [newer.id]


def test_pinned_chats_come_first_and_the_rest_come_a_page_at_a_time_each_once(session, provider_env):
    from datetime import timedelta

    from chat_app.models import utcnow

    owner, stranger = make_user(session), make_user(session)
    made = [make_chat(session, owner) for _ in range(7)]
    start = utcnow()
    for n, chat in enumerate(made):
        chat.updated_at = start - timedelta(minutes=n)  # made[0] the newest
        session.add(chat)
    made[3].updated_at = made[4].updated_at  # a tie, broken by id
    session.commit()
    chats.pin_chat(owner, made[5].id, True, session=session)
    session.commit()
    assert [c.id for c in chats.pinned_chats(owner, session=session)] == [made[5].id]
    seen, after = [], ""
    while True:
        page, after = chats.recent_chats(owner, session=session, limit=2, after=after)
        seen += [c.id for c in page]
        if not after:
            break
    expected = sorted(
        (c for c in made if c.id != made[5].id), key=lambda c: (c.updated_at, c.id), reverse=True
    )
    assert seen == [c.id for c in expected]
    with pytest.raises(Invalid, match="reload the page"):
        chats.recent_chats(owner, session=session, limit=2, after="not a cursor")
    with pytest.raises(NotFound):
        chats.pin_chat(stranger, made[0].id, True, session=session)
    chats.pin_chat(owner, made[5].id, False, session=session)
    session.commit()
    assert chats.pinned_chats(owner, session=session) == []
