"""The sidebar's chats by when they were last active, as the reader's own calendar has it: Today,
Yesterday, Previous 7 days, Previous 30 days, then one group a month ("November 2026"); and where
a chat goes when a message is sent in it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TypedDict

from chat_app.services.views import ChatView


class ChatGroup(TypedDict):
    label: str
    chats: list[ChatView]


def group_chats(chats: list[ChatView], *, now: datetime, utc_offset_minutes: int = 0) -> list[ChatGroup]:
    """`chats` newest first; `utc_offset_minutes`: the reader's time zone (east of UTC positive)."""
    zone = timezone(timedelta(minutes=utc_offset_minutes))
    today = now.astimezone(zone).date()
    groups: list[ChatGroup] = []
    for chat in chats:
        label = _label(datetime.fromisoformat(chat["updated_at"]).astimezone(zone).date(), today)
        if not groups or groups[-1]["label"] != label:
            groups.append(ChatGroup(label=label, chats=[]))
        groups[-1]["chats"].append(chat)
    return groups


def put_on_top(
    chats: list[ChatView], chat_id: str, title: str | None, *, now: datetime, utc_offset_minutes: int = 0
) -> list[ChatView] | None:
    """`chats` (newest first) once a message was sent in `chat_id`: it moves to the top, named
    `title` when it has a new one. None when the reader would see no change (the chat is already
    the first of Today, under that title), so that nothing is sent again."""
    first = chats[0] if chats else None
    if (
        first is not None
        and first["id"] == chat_id
        and title in (None, first["title"])
        and group_chats([first], now=now, utc_offset_minutes=utc_offset_minutes)[0]["label"] == "Today"
    ):
        return None
    moved = [chat.copy() for chat in chats if chat["id"] == chat_id]
    if not moved:  # a new chat, or one past the pages shown
        moved = [ChatView(id=chat_id, title="New chat", model_id="", updated_at="", pinned=False)]
    for chat in moved:
        chat["title"] = title or chat["title"]
        chat["updated_at"] = now.isoformat()
    return moved + [chat for chat in chats if chat["id"] != chat_id]


def _label(day, today) -> str:
    age = (today - day).days
    if age <= 0:
        return "Today"
    if age == 1:
        return "Yesterday"
    if age <= 7:
        return "Previous 7 days"
    if age <= 30:
        return "Previous 30 days"
    return day.strftime("%B %Y")
