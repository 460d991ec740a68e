"""The sidebar's chats by when they were last active, as the reader's own calendar has it: Today,
Yesterday, Previous 7 days, Previous 30 days, then one group a month ("November 2026")."""

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
