"""An exchange a program made through the API (`/v1/chat/completions` with `"save": true`), kept as
a new chat of its person's, so it appears in their sidebar like any other.

What is kept is the conversation's turns (the person's and the model's; system instructions are
the program's, not turns) and the reply, with its model, tokens and cost.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from chat_app.models import Chat, Message, utcnow
from chat_app.services import branches, chats

KEPT_ROLES = ("user", "assistant")


@dataclass(frozen=True)
class SavedReply:
    """The reply as it ended, and what it cost."""

    text: str
    status: str  # complete, stopped (the program went away) or error
    error: str | None
    model_id: str
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None
    paid_with_own_key: bool


@dataclass(frozen=True)
class Saved:
    chat_id: str
    reply_id: str


def save_exchange(
    person_id: uuid.UUID, turns: Sequence[dict[str, str]], reply: SavedReply, *, session: Session
) -> Saved:
    """The turns (`{"role", "content"}`, in order) and the reply as a new chat of the person's,
    numbered 1..n as written. The reply's message carries its cost, counted against the person's
    monthly allowance like any reply they asked for."""
    kept = [turn for turn in turns if turn["role"] in KEPT_ROLES]
    asked = next((turn["content"] for turn in kept if turn["role"] == "user"), "")
    now = utcnow()
    chat = Chat(
        user_id=person_id,
        model_id=reply.model_id,
        share_token=chats.new_share_token(),
        created_at=now,
        updated_at=now,
    )
    if asked:
        chat.title = chats.first_words(asked)  # until a title model names it (services/titles.py)
    session.add(chat)
    session.flush()
    messages = [
        Message(
            chat_id=chat.id,
            seq=seq,
            role=turn["role"],
            content=turn["content"],
            author_id=person_id if turn["role"] == "user" else None,
            created_at=now,
            updated_at=now,
        )
        for seq, turn in enumerate(kept, start=1)
    ]
    answer = Message(
        chat_id=chat.id,
        seq=len(kept) + 1,
        role="assistant",
        content=reply.text,
        status=reply.status,
        error=reply.error,
        model_id=reply.model_id,
        author_id=person_id,  # who asked for it: their allowance counts its cost
        input_tokens=reply.input_tokens,
        output_tokens=reply.output_tokens,
        cost=reply.cost,
        paid_with_own_key=reply.paid_with_own_key,
        created_at=now,
        updated_at=now,
    )
    branches.chain(chat, [*messages, answer])  # one branch, which the chat shows
    session.add_all([chat, *messages, answer])
    session.flush()
    return Saved(chat_id=str(chat.id), reply_id=str(answer.id))
