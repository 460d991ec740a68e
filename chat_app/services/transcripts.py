"""A chat, or all of a person's chats, exported for them to keep: Markdown to read, JSON to import
again, or a zip of the JSON with the chats' files.

What is read comes from the database in the caller's transaction (`transcript`, `own_transcripts`);
the writing happens afterwards, off the transaction, and a zip's files are copied into it piece by
piece from the store, never held whole.
"""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlmodel import Session, col, select

from chat_app.models import Chat, MediaFile, Message, User
from chat_app.services import access, branches, catalog, chats, media
from chat_app.services.storage import get_storage

FORMAT = "chat-app/chat"
VERSION = 2  # 2: every branch, each message naming the one it follows
VERSIONS_READ = (1, 2)
FORMATS = ("md", "json", "zip")
COPY_CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^\w\- ]+")


@dataclass(frozen=True)
class Transcript:
    """One chat as it is exported: its JSON document and the files its messages hold."""

    document: dict[str, Any]
    files: list[MediaFile]
    model_names: dict[str, str]  # model id -> name, for the Markdown

    @property
    def title(self) -> str:
        return self.document["title"]

    def file_stem(self) -> str:
        """A download's name: the title, safe in any file system."""
        stem = _UNSAFE.sub("", self.title).strip()[:60].strip()
        return stem or "chat"


def transcript(actor: User | None, chat_id: uuid.UUID | str, *, session: Session) -> Transcript:
    """The chat `actor` may read (its members; NotFound for anyone else), every message with it."""
    chat, _role = access.authorize(actor, chat_id, "read", session=session)
    return _transcript(chat, session=session)


def own_transcripts(actor: User, *, session: Session) -> list[Transcript]:
    """Every chat the person owns, oldest first."""
    owned = session.exec(select(Chat).where(col(Chat.user_id) == actor.id).order_by(col(Chat.created_at)))
    return [_transcript(chat, session=session) for chat in owned]


def _transcript(chat: Chat, *, session: Session) -> Transcript:
    messages = chats.messages_of(chat.id, session=session)
    files = media.media_of([m.id for m in messages], session=session)
    used = {m.model_id for m in messages if m.model_id} | ({chat.model_id} if chat.model_id else set())
    names = catalog.model_names(used, session=session)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "id": str(chat.id),
        "title": chat.title,
        "model_id": chat.model_id,
        "created_at": chat.created_at.isoformat(),
        "current_leaf_id": str(branches.leaf_of(chat, session=session) or "") or None,
        "messages": [_message(m, files.get(m.id, [])) for m in messages],
    }
    return Transcript(document, [f for m in messages for f in files.get(m.id, [])], names)


def _message(row: Message, files: list[MediaFile]) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "parent_id": str(row.parent_id) if row.parent_id else None,
        "role": row.role,
        "content": row.content,
        "status": row.status,
        "model_id": row.model_id,
        "created_at": row.created_at.isoformat(),
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cost": row.cost,
        "error": row.error,
        "files": [
            {
                "file": file_name(f),
                "kind": f.kind,
                "mime_type": f.mime_type,
                "byte_size": f.byte_size,
                "original_name": f.original_name,
            }
            for f in files
        ],
    }


def file_name(row: MediaFile) -> str:
    """Where a file sits in a zip, beside the chat's JSON: by its id, with its stored extension."""
    return f"files/{row.id}{PurePosixPath(row.storage_key).suffix}"


# ----- writing ------------------------------------------------------------------------------------


def as_json(chat: Transcript) -> str:
    return json.dumps(chat.document, indent=2, ensure_ascii=False)


def as_markdown(chat: Transcript) -> str:
    """The conversation to read, the branch the chat shows: a heading per turn, replies named by
    their model, attachments by their names (their bytes are in the zip)."""
    lines = [f"# {chat.title}", ""]
    for message in shown_branch(chat.document):
        if message["role"] == "user":
            lines.append("## You")
        else:
            model = message["model_id"]
            lines.append(f"## {chat.model_names.get(model, model) if model else 'Assistant'}")
        lines.append("")
        if message["content"]:
            lines += [message["content"], ""]
        for attached in message["files"]:
            lines += [
                f"*{attached['kind'].capitalize()}: {attached['original_name'] or attached['file']}*",
                "",
            ]
        if message["status"] not in ("complete", "pending", "streaming") and message["role"] == "assistant":
            lines += [f"*({message['status']}{': ' + message['error'] if message['error'] else ''})*", ""]
    return "\n".join(lines).rstrip() + "\n"


def shown_branch(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages of the branch the chat shows, from its first message down."""
    by_id = {m["id"]: m for m in document["messages"]}
    branch, node = [], by_id.get(document.get("current_leaf_id") or "")
    while node is not None and len(branch) < len(by_id):
        branch.append(node)
        node = by_id.get(node["parent_id"] or "")
    return list(reversed(branch))


def write_zip(chats: Iterable[Transcript], to: Path) -> Path:
    """Each chat's JSON (and Markdown) under a folder of its own, its files beside them."""
    storage = get_storage()
    with zipfile.ZipFile(to, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder, chat in _folders(chats):
            archive.writestr(f"{folder}chat.json", as_json(chat))
            archive.writestr(f"{folder}chat.md", as_markdown(chat))
            for f in chat.files:
                with (
                    storage.open(f.storage_key) as source,
                    archive.open(f"{folder}{file_name(f)}", "w") as target,
                ):
                    while block := source.read(COPY_CHUNK):
                        target.write(block)
    return to


def _folders(chats: Iterable[Transcript]) -> Iterator[tuple[str, Transcript]]:
    """One chat: at the zip's top; several: a folder each, named by title and id."""
    listed = list(chats)
    if len(listed) == 1:
        yield "", listed[0]
        return
    for chat in listed:
        yield f"{chat.file_stem()} {chat.document['id'][:8]}/", chat
