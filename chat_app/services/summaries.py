"""Summaries of a branch's earlier messages, sent in their place once they no longer fit a model's
window (SUMMARY_MODEL; off by default, as each is a paid call).

A summary stands for the messages of a branch from its first down to one of them, and is written
once by a cheap model after a reply that left messages out (services/summary_calls.py). A reply
whose prompt leaves messages out is sent the nearest summary at or above the newest of them, in
room taken from the turns that fit; its note says how many messages that summary stood for.
Summaries of a branch's shared start serve every branch below it.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, col

from chat_app.models import ConversationSummary
from chat_app.services import branches, context_fit
from chat_app.settings import get_settings

OFF = "off"
CHEAPEST = "cheapest"
# How far above a prompt's first message left out a summary is looked for: one is written after
# each reply that leaves messages out, so the nearest is a few messages up.
REACH = 200


def enabled() -> bool:
    return get_settings().summary_model != OFF


def summary_above(
    message_id: uuid.UUID, *, session: Session, reach: int | None = REACH
) -> ConversationSummary | None:
    """The nearest summary at or above this message on its branch, within `reach` messages (None:
    however far); None when summaries are off."""
    if not enabled():
        return None
    nearest = branches.nearest_up(
        message_id, ConversationSummary, col(ConversationSummary.message_id), limit=reach
    )
    return session.exec(nearest.limit(1)).first()


def as_turn(summary: ConversationSummary) -> context_fit.Turn:
    """The summary as the prompt's opening system message."""
    return context_fit.Turn(
        summary.id,
        "system",
        f"The {summary.covered:,} earliest messages of this conversation are not shown; "
        f"a summary of them:\n\n{summary.content}",
    )
