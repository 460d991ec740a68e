"""Writing a summary of a branch's earlier messages, in the background, after a reply that left
some out (services/summaries.py says how they are used).

The new summary carries the last one forward: the model is shown it and the messages after it,
oldest first, as far as one call takes (`EXCERPT_CHARS`, `CALL_CHARS`), and the summary is kept
at the last message it read. So a chat that outgrew its window long ago catches up over a few
replies, and no message is skipped. The call is paid as any side call is (services/side_calls.py).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from chat_app.db import session_scope
from chat_app.models import ConversationSummary, Message, MessageStatus, User
from chat_app.services import branches, chats, context_fit, llm, side_calls, summaries
from chat_app.services.summaries import CHEAPEST
from chat_app.settings import get_settings

EXCERPT_CHARS = 4_000  # of each message
CALL_CHARS = 32_000  # of messages in one call: about 8,000 tokens, which any text model takes
READ_AT_MOST = 200  # messages read for one call
MOST_TOKENS = 600
DEADLINES = llm.Deadlines(first_token=30, chunk_gap=15, total=90)
INSTRUCTION = (
    "You keep the memory of a long conversation whose earlier messages can no longer be shown. "
    "Write a summary of the conversation the user shows you that lets it go on without them: the "
    "facts, names, numbers, decisions, code and open questions that matter, in the conversation's "
    "language, in at most 300 words. Reply with the summary alone."
)
ROLES = {"user": "User", "assistant": "Assistant"}


@dataclass(frozen=True)
class SummaryCall:
    """What writing one summary needs, read from the database before the call."""

    chat_id: uuid.UUID
    last: context_fit.Turn  # the newest message it reads: the summary is kept there
    covered: int  # the messages it stands for: the last summary's and those it reads
    payer: side_calls.Payer
    prompt: list[dict]


def start(reply_id: str, engine: sa.Engine | None = None) -> None:
    """Carry the summary of the reply's branch forward, in the background."""
    if not summaries.enabled():
        return
    side_calls.in_background(write(reply_id, engine))


async def write(reply_id: str, engine: sa.Engine | None = None) -> ConversationSummary | None:
    """Ask for the summary and keep it; the summary kept, or None (nothing to do, or no answer)."""
    done = await side_calls.made(
        lambda: _planned(reply_id, engine), max_tokens=MOST_TOKENS, deadlines=DEADLINES, what="summary"
    )
    if done is None:
        return None
    call, answer = done
    return await asyncio.to_thread(_save, call, answer, engine)


def _planned(reply_id: str, engine: sa.Engine | None) -> SummaryCall | None:
    with session_scope(engine) as session:
        return plan(uuid.UUID(reply_id), session=session)


def plan(reply_id: uuid.UUID, *, session: Session) -> SummaryCall | None:
    """The call to make after a complete reply that left messages out, or None: summaries off,
    nothing left out, the summary already there, or no model the asker can pay for."""
    reply = session.get(Message, reply_id)
    if reply is None or reply.status != MessageStatus.complete.value or not reply.left_out_messages:
        return None
    asker = session.get(User, reply.author_id) if reply.author_id else None
    if asker is None:
        return None
    # The newest message the reply's prompt left out: a summary ends there when it can.
    newest = next(islice(chats.turns_above(reply, session=session), reply.prompt_messages or 0, None), None)
    if newest is None:
        return None
    last = summaries.summary_above(newest.id, session=session, reach=None)  # however far: no gap
    if last is not None and last.message_id == newest.id:
        return None
    after = session.get(Message, last.message_id) if last is not None else None
    below = branches.turns_below(newest.id, after.seq if after else 0, session=session, limit=READ_AT_MOST)
    read = _oldest_that_fit(
        [context_fit.Turn(r.id, r.role, r.content, depth=r.depth) for r in below if r.content]
    )
    payer = _payer(asker, reply.chat_id, session=session) if read else None
    if payer is None:  # nothing to read, or nobody to pay for it
        return None
    covered = (last.covered if last is not None else 0) + len(read)
    return SummaryCall(reply.chat_id, read[-1], covered, payer, _prompt(last, read))


def _oldest_that_fit(oldest_first: list[context_fit.Turn]) -> list[context_fit.Turn]:
    """The oldest messages whose excerpts fit one call (at least one, when there is one)."""
    read: list[context_fit.Turn] = []
    chars = 0
    for turn in oldest_first:
        chars += min(len(turn.text), EXCERPT_CHARS)
        if read and chars > CALL_CHARS:
            break
        read.append(turn)
    return read


def _prompt(last: ConversationSummary | None, read: list[context_fit.Turn]) -> list[dict]:
    messages = "\n\n".join(f"{ROLES.get(t.role, t.role)}: {t.text[:EXCERPT_CHARS]}" for t in read)
    if last is None:
        shown = f"The conversation:\n\n{messages}"
    else:
        shown = f"The summary so far:\n\n{last.content}\n\nThe conversation after it:\n\n{messages}"
    return [
        {"role": "system", "content": INSTRUCTION},
        {"role": "user", "content": f"{shown}\n\nThe summary:"},
    ]


def _payer(asker: User, chat_id: uuid.UUID, *, session: Session) -> side_calls.Payer | None:
    """SUMMARY_MODEL when it is usable now, or the cheapest usable text model ("cheapest")."""
    chosen = get_settings().summary_model
    return side_calls.payer_for(None if chosen == CHEAPEST else chosen, asker, chat_id, session=session)


def _save(
    call: SummaryCall, answer: side_calls.Answer, engine: sa.Engine | None
) -> ConversationSummary | None:
    """The summary, unless one was kept there meanwhile or the chat is gone; the cost either way."""
    content = answer.text.strip()
    with session_scope(engine) as session:
        side_calls.record_spend(call.payer, answer.cost, session=session)
        if not content:
            return None
        summary = ConversationSummary(
            message_id=call.last.id,
            chat_id=call.chat_id,
            depth=call.last.depth,
            covered=call.covered,
            content=content,
            model_id=call.payer.model.id,
        )
        try:
            with session.begin_nested():
                session.add(summary)
        except IntegrityError:  # written by a reply that ended at the same time, or deleted since
            return None
        return summary
