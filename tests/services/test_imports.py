"""Conversations brought from ChatGPT, Claude, Open WebUI and this app's own export."""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from chat_app.models import Chat, Message
from chat_app.services import chats, imports, transcripts
from chat_app.services.errors import Invalid
from tests.fakes import conversation_exports as exports
from tests.support.factories import make_chat, make_user


def _file(tmp_path: Path, content, name: str = "conversations.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def _turns(session: Session, chat_id: str) -> list[tuple[str, str]]:
    rows = session.exec(
        select(Message).where(Message.chat_id == uuid.UUID(chat_id)).order_by(col(Message.seq))
    ).all()
    return [(m.role, m.content) for m in rows]


def _shown(session: Session, chat_id: str) -> list[tuple[str, str]]:
    """The branch the chat shows."""
    chat = session.get(Chat, uuid.UUID(chat_id))
    assert chat is not None
    return [(m.role, m.content) for m in chats.branch_of(chat, session=session)]


@pytest.fixture
def person(session):
    return make_user(session)


def test_chatgpt_keeps_every_branch_and_shows_the_one_it_was_left_on(session, engine, person, tmp_path):
    report = imports.import_file(person.id, _file(tmp_path, [exports.chatgpt_conversation()]), engine=engine)
    assert report["format"] == "ChatGPT" and report["failed"] == []
    (imported,) = report["imported"]
    assert imported["title"] == "Packing for Lisbon" and imported["messages"] == 5
    with Session(engine) as fresh:
        assert _shown(fresh, imported["chat_id"]) == [
            ("user", "What should I pack for Lisbon in May?"),  # the edited question, its picture left out
            ("assistant", "Light layers and a jacket."),
            ("assistant", "And sunscreen: 22 °C."),  # after the tool's own turn, left out
        ]
        rows = chats.messages_of(uuid.UUID(imported["chat_id"]), session=fresh)
        views = {v["content"]: v for v in chats.message_views(rows, session=fresh)}
        first, edited = views["What should I pack?"], views["What should I pack for Lisbon in May?"]
        assert (first["branch"], edited["branch"], edited["branches"]) == (1, 2, 2)
        assert first["parent_id"] == edited["parent_id"] == ""  # the hidden system turn left out
        assert views["An umbrella."]["parent_id"] == first["id"]
        chat = fresh.get(Chat, uuid.UUID(imported["chat_id"]))
        assert chat is not None and chat.user_id == person.id and chat.created_at.timestamp() == exports.T0


def test_claude_reads_text_from_either_place_and_names_untitled_chats(session, engine, person, tmp_path):
    report = imports.import_file(person.id, _file(tmp_path, exports.claude_conversations()), engine=engine)
    assert report["format"] == "Claude"
    first, second = report["imported"]
    assert (first["title"], second["title"]) == ("Sourdough starter", "Untitled question")
    with Session(engine) as fresh:
        assert _turns(fresh, first["chat_id"]) == [
            ("user", "How do I feed a starter?"),
            ("assistant", "Equal weights of flour and water, daily."),
        ]


def test_open_webui_shows_the_current_answer_and_keeps_the_other(session, engine, person, tmp_path):
    report = imports.import_file(person.id, _file(tmp_path, exports.open_webui_export()), engine=engine)
    assert report["format"] == "Open WebUI"
    with Session(engine) as fresh:
        chat_id = report["imported"][0]["chat_id"]
        assert _shown(fresh, chat_id) == [("user", "Name a colour"), ("assistant", "Teal")]
        assert _turns(fresh, chat_id) == [
            ("user", "Name a colour"),
            ("assistant", "Red"),
            ("assistant", "Teal"),
        ]


def _tree(document: dict) -> tuple[list[tuple], int]:
    """A tree as its shape: each message with the place of the one it follows, and the current leaf's."""
    place = {m["id"]: n for n, m in enumerate(document["messages"])}
    keys = ("role", "content", "status", "created_at")
    shape = [(*(m[k] for k in keys), place.get(m["parent_id"])) for m in document["messages"]]
    return shape, place[document["current_leaf_id"]]


def test_our_own_export_comes_back_the_same_tree(session, engine, person, tmp_path, provider_env):
    chat = make_chat(session, person)

    def answer(reply: Message, text: str) -> None:
        reply.content, reply.status = text, "complete"
        session.add(reply)
        session.commit()

    question, reply = chats.post_message(person, chat.id, "Round trip?", session=session)
    answer(reply, "Round trip!")
    answer(chats.regenerate_reply(person, chat.id, session=session), "Round trip, again!")
    _edited, reply = chats.edit_message(person, chat.id, question.id, "Round trip, really?", session=session)
    answer(reply, "Really.")
    chats.switch_branch(person, chat.id, _edited.id, -1, session=session)
    session.commit()
    exported = transcripts.transcript(person, chat.id, session=session)
    assert exported.document["version"] == 2
    path = tmp_path / "chat.json"
    path.write_text(transcripts.as_json(exported), encoding="utf-8")
    report = imports.import_file(person.id, path, engine=engine)
    assert report["format"] == "chat-app"
    with Session(engine) as fresh:
        again = transcripts.transcript(person, report["imported"][0]["chat_id"], session=fresh)
        assert _shown(fresh, report["imported"][0]["chat_id"]) == [
            ("user", "Round trip?"),
            ("assistant", "Round trip, again!"),
        ]
    assert _tree(again.document) == _tree(exported.document)
    assert again.title == exported.title
    for markdown in (transcripts.as_markdown(exported), transcripts.as_markdown(again)):
        assert "Round trip, again!" in markdown and "really" not in markdown  # the branch shown, only


def test_a_version_1_export_is_read_as_one_branch(session, engine, person, tmp_path):
    document = {
        "format": transcripts.FORMAT,
        "version": 1,
        "title": "Older export",
        "messages": [
            {"role": "user", "content": "one", "status": "complete"},
            {"role": "assistant", "content": "two", "status": "complete"},
        ],
    }
    report = imports.import_file(person.id, _file(tmp_path, document, "chat.json"), engine=engine)
    with Session(engine) as fresh:
        assert _shown(fresh, report["imported"][0]["chat_id"]) == [("user", "one"), ("assistant", "two")]


def test_our_zip_of_every_chat_imports_each(session, engine, person, tmp_path, provider_env):
    for text in ("first chat", "second chat"):
        chat = make_chat(session, person)
        chats.post_message(person, chat.id, text, session=session)
        session.commit()
    path = transcripts.write_zip(transcripts.own_transcripts(person, session=session), tmp_path / "chats.zip")
    report = imports.import_file(person.id, path, engine=engine)
    assert report["format"] == "chat-app zip"
    assert sorted(i["title"] for i in report["imported"]) == ["first chat", "second chat"]


def test_a_broken_conversation_fails_alone_and_writes_nothing(session, engine, person, tmp_path):
    broken = exports.chatgpt_conversation("Broken")
    broken["current_node"] = "missing"
    looping = exports.chatgpt_conversation("Looping")
    looping["mapping"]["q1b"]["parent"] = "a3"
    listed = [exports.chatgpt_conversation("Good one"), broken, "not even an object", looping]
    report = imports.import_file(person.id, _file(tmp_path, listed), engine=engine)
    assert [i["title"] for i in report["imported"]] == ["Good one"]
    assert report["failed"] == [
        {
            "number": 2,
            "title": "Broken",
            "error": "This conversation does not say which of its branches is current.",
        },
        {"number": 3, "title": "", "error": "This entry is not a conversation."},
        {"number": 4, "title": "Looping", "error": "This conversation's messages do not form a tree."},
    ]
    with Session(engine) as fresh:
        assert len(fresh.exec(select(Chat).where(Chat.user_id == person.id)).all()) == 1


def test_a_file_that_breaks_off_keeps_what_came_before_and_says_so(session, engine, person, tmp_path):
    whole = json.dumps(
        [exports.chatgpt_conversation("Before the break"), exports.chatgpt_conversation("Cut")]
    )
    path = tmp_path / "conversations.json"
    path.write_text(whole[: len(whole) - 200], encoding="utf-8")
    report = imports.import_file(person.id, path, engine=engine)
    assert [i["title"] for i in report["imported"]] == ["Before the break"]
    (failed,) = report["failed"]
    assert failed["number"] == 2 and "not valid JSON" in failed["error"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("plain text", "is not an export this app reads"),
        ("[]", "holds no conversation"),
        ('[{"id": 1}]', "This list is not one this app reads"),
        ('{"format": "something-else"}', "not a chat exported by this app"),
        ("{broken", "not valid JSON"),
    ],
)
def test_a_file_of_no_known_format_is_refused_whole(session, engine, person, tmp_path, content, error):
    path = tmp_path / "upload.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(Invalid, match=error):
        imports.import_file(person.id, path, engine=engine)
    with Session(engine) as fresh:
        assert fresh.exec(select(Chat).where(Chat.user_id == person.id)).all() == []


def test_a_zip_that_is_not_ours_is_refused(session, engine, person, tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(Invalid, match="holds no chat.json"):
        imports.import_file(person.id, path, engine=engine)


@pytest.mark.parametrize("recursive", [True, False])
def test_librechat_keeps_the_newest_answer_at_each_turn(session, engine, person, tmp_path, recursive):
    path = tmp_path / "librechat.json"
    path.write_text(json.dumps(exports.librechat_conversation(recursive=recursive)), encoding="utf-8")
    report = imports.import_file(person.id, path, engine=engine)
    assert report["format"] == "LibreChat" and report["imported"][0]["title"] == "Tea"
    with Session(engine) as fresh:
        assert _turns(fresh, report["imported"][0]["chat_id"]) == [
            ("user", "Which tea is calmest?"),
            ("assistant", "Chamomile."),
            ("user", "And for the morning?"),
            ("assistant", "Sencha, a green tea."),
        ]
