"""Plain dictionaries of chats and messages, shared by the API and the Reflex states."""

from __future__ import annotations

from typing import TypedDict

from chat_app.models import ChatSession, Message


class ChatView(TypedDict):
    id: str
    title: str
    model_id: str
    updated_at: str


class MessageView(TypedDict):
    id: str
    seq: int
    role: str
    content: str
    status: str
    model_id: str
    error: str
    input_tokens: int
    output_tokens: int
    cost: float
    cost_label: str


def money(amount: float | None) -> str:
    """A cost people can read: "$0.0042", "$1.25"; empty when unknown or zero."""
    if not amount:
        return ""
    if amount >= 0.01:
        return f"${amount:,.2f}"
    text = f"{amount:.6f}".rstrip("0").rstrip(".")
    return f"${text}" if text != "0" else "<$0.000001"


def chat_view(chat: ChatSession) -> ChatView:
    return ChatView(
        id=str(chat.id), title=chat.title, model_id=chat.model_id or "",
        updated_at=chat.updated_at.isoformat(),
    )


def message_view(message: Message) -> MessageView:
    return MessageView(
        id=str(message.id), seq=message.seq, role=message.role, content=message.content, status=message.status,
        model_id=message.model_id or "", error=message.error or "",
        input_tokens=message.input_tokens or 0, output_tokens=message.output_tokens or 0,
        cost=message.cost or 0.0, cost_label=money(message.cost),
    )
