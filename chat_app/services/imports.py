"""Conversations people bring from elsewhere, made chats of their own.

A file holds one or many conversations: our own export (a chat's JSON, or the zip of one chat or of
all of them), ChatGPT's `conversations.json`, Claude's `conversations.json`, Open WebUI's export, or
a LibreChat conversation's JSON.
A list is read one conversation at a time (ijson), never whole; each is checked in full before
anything of it is written, then saved in a transaction of its own: all of it or none, with a
sentence saying why for one that cannot be read, while the others go in.

What comes in is the text of the turns people and models wrote, with their times: the branch a
ChatGPT or Open WebUI conversation was left on, or LibreChat shows first (our chats are one line of turns), no attachments
(their files are not in those exports, or only as extracted text), and no model names (a reply
made elsewhere is named by no model of this catalog).
"""

from __future__ import annotations

import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypedDict

import ijson
import sqlalchemy as sa
from sqlmodel import Session

from chat_app.db import session_scope
from chat_app.models import MAX_TITLE_LENGTH, Chat, Message, MessageStatus, User, utcnow
from chat_app.services import branches, budgets, chats, import_trees, imported_files, transcripts
from chat_app.services.catalog import default_model_for
from chat_app.services.errors import Invalid, NotFound

MOST_MESSAGE_CHARS = 1_000_000  # a turn longer than this is not a conversation's
MOST_TURNS = 100_000
KEPT_STATUSES = {MessageStatus.complete.value, MessageStatus.error.value, MessageStatus.stopped.value}


class Unreadable(Exception):
    """One conversation that cannot be imported; the message says why, for people."""


@dataclass
class Turn:
    role: str  # user | assistant
    text: str
    at: datetime | None = None
    status: str = MessageStatus.complete.value
    key: str = ""  # its node's id, in an export that is a tree
    files: list[imported_files.Attached] = field(default_factory=list)  # in this app's zip


@dataclass
class Conversation:
    title: str
    at: datetime | None
    turns: list[Turn] = field(default_factory=list)
    # A tree's every node (kept or not) and its parent, and the node it was left on; None: the
    # turns are one branch, in order.
    links: dict[str, str | None] | None = None
    current: str | None = None
    open_file: imported_files.Opener | None = None  # the files' bytes: this app's zip holds them


class Imported(TypedDict):
    chat_id: str
    title: str
    messages: int


class Failed(TypedDict):
    number: int  # the conversation's place in the file, from 1
    title: str
    error: str


class ImportReport(TypedDict):
    format: str
    imported: list[Imported]
    failed: list[Failed]


# ----- reading ------------------------------------------------------------------------------------

Read = Callable[[dict[str, Any]], Conversation]


@dataclass(frozen=True)
class Pending:
    """A conversation of the file, read (and checked) when asked: a broken one fails alone."""

    title: str
    read: Callable[[], Conversation]


def import_file(person_id: uuid.UUID, path: Path, *, engine: sa.Engine | None = None) -> ImportReport:
    """Import every conversation the file at `path` holds for the person; what went in and what
    did not, each with why. Invalid when the file is none of the formats read here."""
    with session_scope(engine) as session:
        person = session.get(User, person_id)
        if person is None:
            raise NotFound("This account no longer exists.")
        budgets.count_request(person)  # one request, however many conversations
        model_id = default_model_for(person, session=session)
    name, conversations = _conversations(path)
    report = ImportReport(format=name, imported=[], failed=[])
    number = 0
    try:
        for number, pending in enumerate(conversations, start=1):
            try:
                conversation = pending.read()
                with session_scope(engine) as session:
                    chat = save(person_id, conversation, model_id, session=session)
            except Unreadable as exc:
                report["failed"].append(Failed(number=number, title=pending.title, error=str(exc)))
                continue
            report["imported"].append(
                Imported(chat_id=str(chat.id), title=chat.title, messages=len(conversation.turns))
            )
    except Invalid as exc:  # the file breaks off: what came before it stays imported, and says so
        if not report["imported"] and not report["failed"]:
            raise
        report["failed"].append(Failed(number=number + 1, title="", error=str(exc)))
    if not report["imported"] and not report["failed"]:
        raise Invalid("This file holds no conversation.")
    if not report["imported"] and len(report["failed"]) == 1:
        raise Invalid(report["failed"][0]["error"])  # a file of one conversation, unreadable: refused
    return report


def _conversations(path: Path) -> tuple[str, Iterator[Pending]]:
    """The file's format, and its conversations, each read when called."""
    with path.open("rb") as probe:
        head = probe.read(4)
    if head.startswith(b"PK\x03\x04"):
        return "chat-app zip", _from_our_zip(path)
    first = _first_char(path)
    if first == "{":  # one conversation: ours, or LibreChat's
        document = _load_whole(path)
        if "conversationId" in document and "messages" in document:
            return "LibreChat", iter([_later(_read_librechat, document)])
        return "chat-app", iter([_later(_read_ours, document)])
    if first == "[":
        return _from_list(path)
    raise Invalid(
        "This file is not an export this app reads: a chat's JSON or zip from this app, ChatGPT's or "
        "Claude's conversations.json, Open WebUI's export, or a LibreChat conversation."
    )


def _first_char(path: Path) -> str:
    with path.open("rb") as f:
        while chunk := f.read(4096):
            stripped = chunk.lstrip().lstrip(b"\xef\xbb\xbf")  # whitespace and a byte order mark
            if stripped:
                return chr(stripped[0])
    return ""


def _load_whole(path: Path) -> dict[str, Any]:
    """One conversation's file (ours): a single JSON object."""
    try:
        with path.open("rb") as f:
            document = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Invalid(f"This file is not valid JSON ({exc}).") from None
    if not isinstance(document, dict):
        raise Invalid("This file is not valid JSON for a chat.")
    return document


def _from_list(path: Path) -> tuple[str, Iterator[Pending]]:
    """A JSON list of conversations, read one at a time; its format from its first one."""
    items = _items(path)
    first = next(items, None)
    if first is None:
        return "empty", iter(())
    name, read = _format_of(first)

    def each() -> Iterator[Pending]:
        yield _later(read, first)
        for item in items:
            yield _later(read, item)

    return name, each()


def _items(path: Path) -> Iterator[Any]:
    f = path.open("rb")
    try:
        yield from ijson.items(f, "item", use_float=True)
    except ijson.JSONError as exc:
        raise Invalid(f"This file is not valid JSON ({exc}); nothing after that point was read.") from None
    finally:
        f.close()


def _format_of(item: Any) -> tuple[str, Read]:
    if isinstance(item, dict):
        if "mapping" in item:
            return "ChatGPT", _read_chatgpt
        if "chat_messages" in item:
            return "Claude", _read_claude
        if isinstance(item.get("chat"), dict):
            return "Open WebUI", _read_open_webui
        if item.get("format") == transcripts.FORMAT:
            return "chat-app", _read_ours
    raise Invalid(
        "This list is not one this app reads: ChatGPT's or Claude's conversations.json, or Open "
        "WebUI's export."
    )


def _later(read: Read, item: Any) -> Pending:
    """The conversation in `item`, to be read by `read` when asked."""

    def reading() -> Conversation:
        if not isinstance(item, dict):
            raise Unreadable("This entry is not a conversation.")
        try:
            return _checked(read(item))
        except Unreadable:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise Unreadable(
                f"This conversation is not in the expected shape ({type(exc).__name__}: {exc})."
            ) from None

    title = _text(item.get("title") or item.get("name")) if isinstance(item, dict) else ""
    return Pending(title, reading)


def _checked(conversation: Conversation) -> Conversation:
    turns = [t for t in conversation.turns if t.text.strip() or t.files]
    if not turns:
        raise Unreadable("This conversation has no message with text.")
    if len(turns) > MOST_TURNS:
        raise Unreadable(f"This conversation has more than {MOST_TURNS:,} messages.")
    if any(len(t.text) > MOST_MESSAGE_CHARS for t in turns):
        raise Unreadable(f"A message of this conversation is longer than {MOST_MESSAGE_CHARS:,} characters.")
    conversation.turns = turns
    return conversation


# ----- the formats --------------------------------------------------------------------------------


def _read_ours(document: dict[str, Any]) -> Conversation:
    if document.get("format") != transcripts.FORMAT:
        raise Unreadable("This JSON is not a chat exported by this app.")
    version = document.get("version")
    if version not in transcripts.VERSIONS_READ:
        raise Unreadable(
            f"This chat was exported as version {version}; this app reads versions "
            f"{' and '.join(map(str, transcripts.VERSIONS_READ))}."
        )
    turns, links = [], {}
    for number, m in enumerate(document["messages"]):
        key = _text(m.get("id")) or str(number)
        links[key] = _text(m.get("parent_id")) or None
        if m["role"] not in ("user", "assistant"):
            continue
        status = m.get("status") if m.get("status") in KEPT_STATUSES else MessageStatus.stopped.value
        files = [
            imported_files.Attached(_text(f.get("file")), _text(f.get("original_name")) or None)
            for f in m.get("files") or ()
            if isinstance(f, dict) and _text(f.get("file"))
        ]
        turns.append(Turn(m["role"], _text(m["content"]), _when(m.get("created_at")), status, key, files))
    title, at = _text(document.get("title")), _when(document.get("created_at"))
    if version == 1:  # one branch, in order
        return Conversation(title, at, turns)
    return Conversation(title, at, turns, links, _text(document.get("current_leaf_id")) or None)


def _read_chatgpt(conversation: dict[str, Any]) -> Conversation:
    """`mapping` is a tree of nodes, all kept (its branches are versions); the chat shows the one
    ending at `current_node`."""
    mapping: dict[str, Any] = conversation["mapping"]
    current = conversation.get("current_node")
    if current not in mapping:
        raise Unreadable("This conversation does not say which of its branches is current.")
    turns, links = [], {}
    for node_id, node in mapping.items():
        links[str(node_id)] = _text(node.get("parent")) or None
        message = node.get("message") or {}
        role = (message.get("author") or {}).get("role")
        content = message.get("content") or {}
        hidden = (message.get("metadata") or {}).get("is_visually_hidden_from_conversation")
        if role not in ("user", "assistant") or hidden:
            continue
        if content.get("content_type") not in ("text", "multimodal_text"):
            continue  # code runs, browsing and the like: not what people read
        parts = [p for p in content.get("parts") or () if isinstance(p, str)]
        at = _when(message.get("create_time"))
        turns.append(Turn(role, "\n\n".join(parts), at, key=str(node_id)))
    title, at = _text(conversation.get("title")), _when(conversation.get("create_time"))
    return Conversation(title, at, turns, links, str(current))


def _read_claude(conversation: dict[str, Any]) -> Conversation:
    turns = []
    for m in conversation["chat_messages"]:
        role = {"human": "user", "assistant": "assistant"}.get(m.get("sender"))
        if role is None:
            continue
        text = m.get("text") or ""
        if not text and isinstance(m.get("content"), list):
            text = "\n\n".join(c.get("text", "") for c in m["content"] if c.get("type") == "text")
        turns.append(Turn(role, _text(text), _when(m.get("created_at"))))
    return Conversation(_text(conversation.get("name")), _when(conversation.get("created_at")), turns)


def _read_open_webui(item: dict[str, Any]) -> Conversation:
    """`chat.history` is a tree (`currentId`, `parentId`), all kept; older exports have only
    `chat.messages`, a list."""
    chat = item["chat"]
    history = chat.get("history") or {}
    messages: dict[str, Any] = history.get("messages") or {}
    title, at = _text(item.get("title") or chat.get("title")), _when(item.get("created_at"))
    if not (messages and history.get("currentId") in messages):
        return Conversation(title, at, _open_webui_turns(chat.get("messages") or []))
    links = {str(key): _text(m.get("parentId")) or None for key, m in messages.items()}
    keyed = [{**m, "id": str(key)} for key, m in messages.items()]
    return Conversation(title, at, _open_webui_turns(keyed), links, str(history["currentId"]))


def _open_webui_turns(messages: list[dict[str, Any]]) -> list[Turn]:
    return [
        Turn(m["role"], _text(m.get("content")), _when(m.get("timestamp")), key=_text(m.get("id")))
        for m in messages
        if m.get("role") in ("user", "assistant")
    ]


def _read_librechat(document: dict[str, Any]) -> Conversation:
    """A tree of messages (`recursive`: each with its `children`; else a list joined by
    `parentMessageId`). LibreChat shows the newest answer at each turn: that branch is kept."""
    messages: list[dict[str, Any]] = document["messages"]
    if document.get("recursive"):
        roots = messages

        def children(m: dict[str, Any]) -> list[dict[str, Any]]:
            return m.get("children") or []
    else:
        ids = {m["messageId"] for m in messages}
        below: dict[Any, list[dict[str, Any]]] = {}
        for m in messages:
            below.setdefault(m.get("parentMessageId"), []).append(m)
        roots = [m for m in messages if m.get("parentMessageId") not in ids]

        def children(m: dict[str, Any]) -> list[dict[str, Any]]:
            return below.get(m["messageId"], [])

    turns = []
    node = roots[-1] if roots else None
    while node is not None:
        if len(turns) > MOST_TURNS:
            raise Unreadable("This conversation's messages do not form a tree.")
        role = "user" if node.get("isCreatedByUser") else "assistant"
        turns.append(Turn(role, _librechat_text(node), _when(node.get("createdAt"))))
        following = children(node)
        node = following[-1] if following else None
    started = _when(document.get("createdAt")) or (turns[0].at if turns else None)
    return Conversation(_text(document.get("title")), started, turns)


def _librechat_text(message: dict[str, Any]) -> str:
    """`text`, or in newer messages the text parts of `content`."""
    if message.get("text"):
        return _text(message["text"])
    parts = []
    for part in message.get("content") or ():
        text = part.get("text") if isinstance(part, dict) and part.get("type") == "text" else None
        if isinstance(text, dict):
            text = text.get("value")
        if isinstance(text, str):
            parts.append(text)
    return "\n\n".join(parts)


def _from_our_zip(path: Path) -> Iterator[Pending]:
    """Our export's zip: a chat.json at its top, or one in each folder."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise Invalid("This zip file cannot be read.") from None
    with archive:
        names = [n for n in archive.namelist() if n == "chat.json" or n.endswith("/chat.json")]
        if not names:
            raise Invalid("This zip holds no chat.json: it is not an export of this app.")
        for name in sorted(names):
            folder = name.removesuffix("chat.json")
            yield _later(_with_files(archive, folder), _zipped_json(archive, name))


def _with_files(archive: zipfile.ZipFile, folder: str) -> Read:
    """Our chat's JSON, its files read from beside it in the zip."""

    def read(document: dict[str, Any]) -> Conversation:
        conversation = _read_ours(document)
        conversation.open_file = lambda path: archive.open(folder + path)
        return conversation

    return read


def _zipped_json(archive: zipfile.ZipFile, name: str) -> Any:
    try:
        with archive.open(name) as member:
            return json.load(member)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # this one fails alone (_later: "not a conversation")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _when(value: Any) -> datetime | None:
    """An ISO time (ours, Claude's) or seconds since 1970 (ChatGPT's, Open WebUI's)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


# ----- saving -------------------------------------------------------------------------------------


def _grow(chat: Chat, conversation: Conversation, messages: list[Message]) -> None:
    """The messages of a tree, each below the one it follows; the chat shows the current branch."""
    assert conversation.links is not None
    try:
        arranged = import_trees.arrange(
            [t.key for t in conversation.turns],
            conversation.links,
            [t.at for t in conversation.turns],
            conversation.current,
        )
    except import_trees.NotATree as exc:
        raise Unreadable(str(exc)) from None
    for seq, i in enumerate(arranged.order, start=1):
        parent = arranged.parents[i]
        messages[i].seq = seq
        branches.attach(messages[i], messages[parent] if parent is not None else None)
    chat.current_leaf_id = messages[arranged.current].id


def save(person_id: uuid.UUID, conversation: Conversation, model_id: str | None, *, session: Session) -> Chat:
    """The conversation as a chat of the person's, its turns in order with their times."""
    now = utcnow()
    first = conversation.turns[0].text
    title = " ".join(conversation.title.split())[:MAX_TITLE_LENGTH] or chats.first_words(first)
    started = conversation.at or conversation.turns[0].at or now
    chat = Chat(
        user_id=person_id,
        title=title,
        model_id=model_id,
        share_token=chats.new_share_token(),
        created_at=started,
        updated_at=now,
    )
    session.add(chat)
    session.flush()
    last, messages = started, []
    for turn in conversation.turns:
        last = turn.at or last
        messages.append(
            Message(
                chat_id=chat.id,
                seq=0,  # numbered below
                role=turn.role,
                content=turn.text,
                status=turn.status,
                author_id=person_id if turn.role == "user" else None,
                created_at=last,
                updated_at=last,
            )
        )
    if conversation.links is None:
        branches.chain(chat, messages)
    else:
        _grow(chat, conversation, messages)
    session.add_all(messages)
    if conversation.open_file is not None:
        session.flush()
        try:
            imported_files.attach(
                person_id,
                [(m, t.files) for m, t in zip(messages, conversation.turns, strict=True) if t.files],
                conversation.open_file,
                session=session,
            )
        except Invalid as exc:  # this chat alone is not imported (its transaction goes back)
            raise Unreadable(str(exc)) from None
    session.flush()
    return chat
