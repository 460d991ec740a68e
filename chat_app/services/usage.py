"""What a person's chats have used and cost."""

from __future__ import annotations

from typing import TypedDict

import sqlalchemy as sa
from sqlmodel import Session, col

from chat_app.models import Chat, Message, User
from chat_app.services.views import money


class UsageTotals(TypedDict):
    replies: int
    input_tokens: int
    output_tokens: int
    cost: float
    cost_label: str


def totals(user: User, *, session: Session) -> UsageTotals:
    """Every reply in the person's own chats (one indexed aggregate query)."""
    row = session.execute(
        sa.select(
            sa.func.count(col(Message.id)),
            sa.func.coalesce(sa.func.sum(Message.input_tokens), 0),
            sa.func.coalesce(sa.func.sum(Message.output_tokens), 0),
            sa.func.coalesce(sa.func.sum(Message.cost), 0.0),
        )
        .join(Chat, col(Chat.id) == Message.chat_id)
        .where(col(Chat.user_id) == user.id, col(Message.role) == "assistant")
    ).one()
    return UsageTotals(
        replies=row[0],
        input_tokens=int(row[1]),
        output_tokens=int(row[2]),
        cost=float(row[3]),
        cost_label=money(float(row[3])) or "$0.00",
    )
