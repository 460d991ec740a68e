"""A chat's title, written by a cheap text model from its first exchange, in the background.

The first message names a new chat at once by its first words (chats.first_words). When the first
reply is complete, a model is asked for a few words, which replace those words unless someone
renamed the chat meanwhile; views of the chat hear of it on the live channel. Which model:
TITLE_MODEL, or by default the cheapest text model the chat's payer can use now; "off" keeps the
first words. The call is paid as any side call is (services/side_calls.py): a person past their
monthly allowance keeps the first words.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col

from chat_app.db import rows_changed, session_scope
from chat_app.models import Chat, Message, MessageStatus, User
from chat_app.services import chats, llm, runtime, side_calls
from chat_app.settings import get_settings

OFF = "off"
EXCERPT_CHARS = 1_500  # of each side of the exchange: enough to name it, cheap to send
MOST_TOKENS = 24
DEADLINES = llm.Deadlines(first_token=20, chunk_gap=10, total=30)
INSTRUCTION = (
    "You name conversations. Reply with a title of two to six words for the conversation the "
    "user shows you, in its language: no quotes, no final full stop, nothing else."
)
_LABEL = re.compile(r"^\s*title\s*:\s*", re.IGNORECASE)
_WRAPPING = "\"'`*#“”‘’«» "


@dataclass(frozen=True)
class TitleCall:
    """What writing one chat's title needs, read from the database before the call."""

    chat_id: uuid.UUID
    first_words: str  # the title now; a rename meanwhile changes it, and the written one is dropped
    payer: side_calls.Payer
    prompt: list[dict]


def start(reply_id: str, engine: sa.Engine | None = None) -> None:
    """Write the title of the chat whose first reply `reply_id` just completed, in the background."""
    if get_settings().title_model == OFF:  # not even a task and the reads that would find that out
        return
    side_calls.in_background(write(reply_id, engine))


async def write(reply_id: str, engine: sa.Engine | None = None) -> str | None:
    """Ask for the title and save it; the title saved, or None (nothing to do, or no answer)."""
    done = await side_calls.made(
        lambda: _planned(reply_id, engine), max_tokens=MOST_TOKENS, deadlines=DEADLINES, what="title"
    )
    if done is None:
        return None
    call, answer = done
    title = cleaned(answer.text)
    saved = await asyncio.to_thread(_save, call, title, answer.cost, engine)
    if saved:
        runtime.current().channel.publish(str(call.chat_id), {"type": "title", "title": title})
    return title if saved else None


def cleaned(text: str) -> str:
    """The model's answer as a title: its first line, without a "Title:" label, quotes or a final
    full stop, cut to what a first-words title may hold; "" when nothing is left."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = _LABEL.sub("", line).strip(_WRAPPING).rstrip(".").strip(_WRAPPING)
    line = " ".join(line.split())
    return chats.first_words(line) if line else ""


# ----- before and after the call ------------------------------------------------------------------


def _planned(reply_id: str, engine: sa.Engine | None) -> TitleCall | None:
    with session_scope(engine) as session:
        return plan(uuid.UUID(reply_id), session=session)


def plan(reply_id: uuid.UUID, *, session: Session) -> TitleCall | None:
    """The call to make for a chat's first complete reply, or None: not the first exchange, a
    renamed chat, no first words to go on, titles off, no model the payer can use, or an asker
    past their monthly allowance."""
    reply = session.get(Message, reply_id)
    if reply is None or reply.seq != 2 or reply.status != MessageStatus.complete.value:
        return None
    chat = session.get(Chat, reply.chat_id)
    asked = chats.asking_message(reply, session=session)  # the first message: the reply is the second
    asker = session.get(User, reply.author_id) if reply.author_id else None
    if chat is None or asked is None or asker is None or not asked.content:
        return None
    if chat.title != chats.first_words(asked.content):
        return None
    payer = _payer(asker, chat.id, session=session)
    if payer is None:
        return None
    return TitleCall(chat.id, chat.title, payer, _prompt(asked.content, reply.content))


def _prompt(asked: str, answered: str) -> list[dict]:
    exchange = f"User: {asked[:EXCERPT_CHARS]}\n\nAssistant: {answered[:EXCERPT_CHARS]}"
    return [
        {"role": "system", "content": INSTRUCTION},
        {"role": "user", "content": f"The conversation:\n\n{exchange}\n\nIts title:"},
    ]


def _payer(asker: User, chat_id: uuid.UUID, *, session: Session) -> side_calls.Payer | None:
    """TITLE_MODEL when it is usable now; unset, the cheapest usable text model; off, none."""
    chosen = get_settings().title_model
    if chosen == OFF:
        return None
    return side_calls.payer_for(chosen or None, asker, chat_id, session=session)


def _save(call: TitleCall, title: str, cost: float | None, engine: sa.Engine | None) -> bool:
    """The title, unless the chat was renamed (or deleted) meanwhile; the call's cost either way."""
    with session_scope(engine) as session:
        side_calls.record_spend(call.payer, cost, session=session)
        if not title:
            return False
        return bool(
            rows_changed(
                session.execute(
                    sa.update(Chat)
                    .where(col(Chat.id) == call.chat_id, col(Chat.title) == call.first_words)
                    .values(title=title)
                )
            )
        )
