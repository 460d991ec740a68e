"""Conversations as trees: edits and regenerated replies are versions beside the old ones."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from chat_app.models import Chat, Message
from chat_app.services import branches, chats, sharing
from chat_app.services.catalog import resolve_model
from chat_app.services.errors import Invalid, NotFound
from tests.support.factories import make_chat, make_user, write_conversation
from tests.support.statements import statements_run


def _answered(session: Session, reply: Message, text: str) -> Message:
    reply.status, reply.content = "complete", text
    session.add(reply)
    session.commit()
    return reply


def _exchange(session: Session, user, chat: Chat, question: str, answer: str) -> tuple[Message, Message]:
    mine, reply = chats.post_message(user, chat.id, question, session=session)
    session.commit()
    return mine, _answered(session, reply, answer)


def _shown(session: Session, chat: Chat) -> list[str]:
    session.refresh(chat)
    return [m.content for m in chats.branch_of(chat, session=session)]


def _prompt(session: Session, reply: Message) -> list[str]:
    model = resolve_model(reply.model_id, session=session)
    assert model is not None
    return [m["content"] for m in chats.prompt_for(reply, model, session=session)]


def test_an_edit_is_a_new_version_whose_branch_the_chat_shows_and_the_prompt_follows(session, provider_env):
    user = make_user(session)
    chat = make_chat(session, user)
    _exchange(session, user, chat, "one", "first answer")
    second, _ = _exchange(session, user, chat, "two", "second answer")
    _exchange(session, user, chat, "three", "third answer")

    edited, reply = chats.edit_message(user, chat.id, second.id, "two, better", session=session)
    session.commit()
    assert edited.parent_id == second.parent_id and edited.depth == second.depth == 3
    assert _prompt(session, reply) == ["one", "first answer", "two, better"]
    _answered(session, reply, "better answer")
    assert _shown(session, chat) == ["one", "first answer", "two, better", "better answer"]

    views = chats.message_views(chats.branch_of(chat, session=session), session=session)
    assert [(v["content"], v["branch"], v["branches"]) for v in views][2] == ("two, better", 2, 2)
    assert views[0]["branches"] == 1 and views[2]["parent_id"] == views[1]["id"]

    # Back to the first version: the branch below it comes back whole, and stays selected.
    leaf = chats.switch_branch(user, chat.id, edited.id, -1, session=session)
    session.commit()
    assert _shown(session, chat) == ["one", "first answer", "two", "second answer", "three", "third answer"]
    assert chat.current_leaf_id == leaf
    # A new message follows the branch shown.
    _mine, after = chats.post_message(user, chat.id, "four", session=session)
    session.commit()
    assert _prompt(session, after) == [
        "one",
        "first answer",
        "two",
        "second answer",
        "three",
        "third answer",
        "four",
    ]


def test_regenerating_keeps_the_old_reply_as_a_version(session, provider_env):
    user = make_user(session)
    chat = make_chat(session, user)
    _, first = _exchange(session, user, chat, "question", "answer one")
    again = chats.regenerate_reply(user, chat.id, session=session)
    session.commit()
    _answered(session, again, "answer two")
    assert _shown(session, chat) == ["question", "answer two"]
    assert branches.places([first, again], session=session) == {first.id: (1, 2), again.id: (2, 2)}
    chats.switch_branch(user, chat.id, again.id, -1, session=session)
    session.commit()
    assert _shown(session, chat) == ["question", "answer one"]
    with pytest.raises(Invalid, match="no other version"):
        chats.switch_branch(user, chat.id, first.id, -1, session=session)


def test_a_failed_reply_is_retried_in_place(session, provider_env):
    user = make_user(session)
    chat = make_chat(session, user)
    _mine, reply = chats.post_message(user, chat.id, "question", session=session)
    reply.status, reply.error = "error", "The provider is down."
    session.add(reply)
    session.commit()
    again = chats.regenerate_reply(user, chat.id, session=session)
    assert again.id == reply.id and again.status == "pending" and again.error is None


def test_only_ones_own_messages_are_edited_and_not_while_a_reply_is_written(session, provider_env):
    owner, editor = make_user(session), make_user(session)
    chat = make_chat(session, owner)
    editor.email_verified = True
    session.add(editor)
    sharing.invite(owner, chat.id, [editor.email], True, session=session)
    session.commit()
    mine, reply = chats.post_message(owner, chat.id, "the owner's", session=session)
    session.commit()
    with pytest.raises(Invalid, match="still being written"):
        chats.edit_message(owner, chat.id, mine.id, "again", session=session)
    _answered(session, reply, "ok")
    with pytest.raises(Invalid, match="only your own"):
        chats.edit_message(editor, chat.id, mine.id, "not yours", session=session)
    with pytest.raises(Invalid, match="only your own"):
        chats.edit_message(owner, chat.id, reply.id, "a reply is not a message of yours", session=session)
    stranger = make_user(session)
    with pytest.raises(NotFound):
        chats.edit_message(stranger, chat.id, mine.id, "let me in", session=session)
    other = make_chat(session, owner)
    with pytest.raises(NotFound, match="not in this chat"):
        chats.edit_message(owner, other.id, mine.id, "from elsewhere", session=session)


def test_a_reader_looks_at_another_branch_without_moving_the_chat(session, provider_env):
    owner, reader = make_user(session), make_user(session)
    chat = make_chat(session, owner)
    reader.email_verified = True
    session.add(reader)
    sharing.invite(owner, chat.id, [reader.email], False, session=session)
    first, _ = _exchange(session, owner, chat, "hello", "hi")
    edited, reply = chats.edit_message(owner, chat.id, first.id, "hello there", session=session)
    session.commit()
    _answered(session, reply, "hi there")
    leaf = chats.switch_branch(reader, chat.id, edited.id, -1, session=session)
    session.commit()
    assert [m.content for m in chats.branch_above(leaf, session=session, limit=50)] == ["hello", "hi"]
    assert _shown(session, chat) == ["hello there", "hi there"]  # what the owner left selected


def test_a_view_learns_whether_the_branch_goes_on_below_what_it_shows(session, provider_env):
    user = make_user(session)
    chat = make_chat(session, user)
    first, answer = _exchange(session, user, chat, "one", "a")
    since = chats.branch_since(chat, answer, session=session)
    assert since.joins and since.rows == []
    mine, reply = _exchange(session, user, chat, "two", "b")
    session.refresh(chat)
    since = chats.branch_since(chat, answer, session=session)
    assert since.joins and [m.id for m in since.rows] == [mine.id, reply.id]
    chats.edit_message(user, chat.id, first.id, "one, edited", session=session)
    session.commit()
    session.refresh(chat)
    assert not chats.branch_since(chat, reply, session=session).joins  # the view must show the new branch
    assert chats.branch_since(chat, None, session=session).joins  # an empty view reads it all


def test_a_page_of_a_long_branch_is_one_bounded_read(engine):
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user)
        write_conversation(session, chat, [f"{n}" for n in range(1, 2_001)])
        session.commit()
        with statements_run(engine) as reads:
            page = chats.branch_of(chat, session=session, limit=50)
    assert [m.seq for m in page] == list(range(1_951, 2_001))
    assert len(reads) == 1  # one recursive read of 50 rows, whatever the chat's length


def test_a_link_to_a_message_opens_a_branch_that_holds_it(session, provider_env):
    user = make_user(session)
    chat = make_chat(session, user)
    first, answer = _exchange(session, user, chat, "one", "a")
    _exchange(session, user, chat, "two", "b")
    session.refresh(chat)
    assert chats.branch_through(chat, first, session=session) == (chat.current_leaf_id, 4)
    edited, reply = chats.edit_message(user, chat.id, first.id, "one, again", session=session)
    session.commit()
    _answered(session, reply, "c")
    chats.switch_branch(user, chat.id, edited.id, -1, session=session)
    session.commit()
    session.refresh(chat)
    assert chats.branch_through(chat, edited, session=session) == (reply.id, 2)  # not the one shown
    assert chats.branch_through(chat, answer, session=session) == (chat.current_leaf_id, 3)


def test_the_oldest_messages_below_one_of_a_branch_are_read_down_from_it_and_no_further(session):
    """What a summary reads next: the branch's messages after the last one summed up, oldest
    first, on this branch only (a sibling version is not on it)."""
    user = make_user(session)
    chat = make_chat(session, user)
    trunk = [Message(chat_id=chat.id, seq=n, role="user", content=f"m{n}") for n in range(1, 9)]
    branches.chain(chat, trunk)
    aside = Message(chat_id=chat.id, seq=9, role="user", content="another version of m6")
    branches.attach(aside, trunk[4])
    session.add_all([chat, *trunk, aside])
    session.commit()

    def below(start: Message, above_seq: int, limit: int = 10) -> list[str]:
        return [r.content for r in branches.turns_below(start.id, above_seq, session=session, limit=limit)]

    assert below(trunk[7], 3) == ["m4", "m5", "m6", "m7", "m8"]
    assert below(trunk[7], 3, limit=2) == ["m4", "m5"]  # the oldest first
    assert below(trunk[7], 0) == [f"m{n}" for n in range(1, 9)]  # from the branch's start
    assert below(aside, 3) == ["m4", "m5", "another version of m6"]
    assert [r.depth for r in branches.turns_below(aside.id, 3, session=session, limit=10)] == [4, 5, 6]
