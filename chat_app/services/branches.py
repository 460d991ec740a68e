"""A chat as a tree of messages: the branch a view shows, a message's versions, where a branch ends.

Editing a message or regenerating a reply writes a sibling of it (same parent), so nothing is
overwritten. A branch is read from its last message upwards, one parent at a time, by a recursive
query bounded by how much is wanted: a page costs the same however long the chat.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from chat_app.models import Chat, Message

T = TypeVar("T")

_messages = sa.table(
    "messages",
    sa.column("id", sa.Uuid()),
    sa.column("session_id", sa.Uuid()),
    sa.column("parent_id", sa.Uuid()),
    sa.column("seq", sa.Integer()),
)


def _upwards(start_id: uuid.UUID, limit: int | None, *, while_after_seq: int | None = None) -> sa.CTE:
    """The ids of up to `limit` messages (None: the whole way) from `start_id` up its branch (`n`:
    1 for the start); with `while_after_seq`, the walk stops at the first message not written
    after that seq."""
    first = (
        sa.select(_messages.c.id, _messages.c.parent_id, _messages.c.seq, sa.literal(1).label("n"))
        .where(_messages.c.id == start_id)
        .cte("upwards", recursive=True)
    )
    parent = _messages.alias("parent")
    step = sa.select(parent.c.id, parent.c.parent_id, parent.c.seq, first.c.n + 1).where(
        parent.c.id == first.c.parent_id
    )
    if limit is not None:
        step = step.where(first.c.n < limit)
    if while_after_seq is not None:
        step = step.where(first.c.seq > while_after_seq)
    return first.union_all(step)


def path_up(start_id: uuid.UUID | None, *, session: Session, limit: int | None) -> list[Message]:
    """Up to `limit` messages (None: all) of the branch that ends at `start_id` (included), oldest
    first."""
    if start_id is None:
        return []
    up = _upwards(start_id, limit)
    return list(
        session.exec(select(Message).join(up, col(Message.id) == up.c.id).order_by(col(Message.depth)))
    )


def turns_up(start_id: uuid.UUID | None, *, session: Session, limit: int) -> Sequence[sa.Row]:
    """The same walk reading only what a prompt needs (id, role, content, depth, parent), newest first:
    a long chat's turns are read on every reply's way out."""
    if start_id is None:
        return []
    up = _upwards(start_id, limit)
    return session.execute(
        sa.select(
            col(Message.id),
            col(Message.role),
            col(Message.content),
            col(Message.depth),
            col(Message.parent_id),
        )
        .join(up, col(Message.id) == up.c.id)
        .order_by(col(Message.depth).desc())
    ).all()


def turns_below(start_id: uuid.UUID, above_seq: int, *, session: Session, limit: int) -> Sequence[sa.Row]:
    """The oldest `limit` messages of the branch ending at `start_id` that were written after
    `above_seq` (the branch's part below a message of that seq; 0: all of it), oldest first, with
    what a prompt needs (id, role, content, depth). The walk stops at that message, however far."""
    up = _upwards(start_id, None, while_after_seq=above_seq)
    return session.execute(
        sa.select(col(Message.id), col(Message.role), col(Message.content), col(Message.depth))
        .join(up, col(Message.id) == up.c.id)
        .where(col(Message.seq) > above_seq)
        .order_by(col(Message.depth))
        .limit(limit)
    ).all()


def nearest_up(
    start_id: uuid.UUID, entity: type[T], message_id: Any, *, limit: int | None
) -> SelectOfScalar[T]:
    """Rows of `entity` whose `message_id` column names a message on the branch from `start_id`
    upwards, within `limit` messages (None: the whole way), the nearest first."""
    up = _upwards(start_id, limit)
    return select(entity).join(up, message_id == up.c.id).order_by(up.c.n)


@dataclass(frozen=True)
class Since:
    """What a branch gained below a message a view shows last (`tip`)."""

    rows: list[Message]  # the messages after the tip, oldest first
    joins: bool  # the branch runs through the tip: the rows follow it; else the view must reload


def since(
    leaf_id: uuid.UUID | None, tip_id: uuid.UUID | None, tip_seq: int, *, session: Session, limit: int = 64
) -> Since:
    """The messages of the branch ending at `leaf_id` written after the view's tip (its last shown
    message, `tip_seq` its seq; None for an empty view). Messages below the tip were all written
    after it, so the walk stops at the first older one, which must be the tip itself."""
    if leaf_id is None:
        return Since([], tip_id is None)
    up = _upwards(leaf_id, limit, while_after_seq=tip_seq)
    rows = list(
        session.exec(select(Message).join(up, col(Message.id) == up.c.id).order_by(col(Message.depth)))
    )
    newer = [m for m in rows if m.seq > tip_seq]
    older = [m for m in rows if m.seq <= tip_seq]
    if older:
        return Since(newer, older[-1].id == tip_id)
    reached_root = bool(rows) and rows[0].parent_id is None and len(rows) < limit
    return Since(newer, tip_id is None and reached_root)


def leaf_of(chat: Chat, *, session: Session) -> uuid.UUID | None:
    """Where the chat's selected branch ends (its last message written, for a chat from before)."""
    if chat.current_leaf_id is not None:
        return chat.current_leaf_id
    return session.exec(
        select(Message.id).where(Message.chat_id == chat.id).order_by(col(Message.seq).desc())
    ).first()


def latest_leaf_under(message: Message, *, session: Session) -> uuid.UUID:
    """The last message written in `message`'s subtree: where its newest branch ends."""
    first = (
        sa.select(_messages.c.id, _messages.c.seq)
        .where(_messages.c.id == message.id)
        .cte("downwards", recursive=True)
    )
    child = _messages.alias("child")
    down = first.union_all(
        sa.select(child.c.id, child.c.seq).where(
            child.c.session_id == message.chat_id, child.c.parent_id == first.c.id
        )
    )
    return session.execute(sa.select(down.c.id).order_by(down.c.seq.desc()).limit(1)).scalar_one()


def siblings(message: Message, *, session: Session) -> list[uuid.UUID]:
    """The versions of a message (itself included), in the order they were written."""
    return list(
        session.exec(
            select(Message.id)
            .where(Message.chat_id == message.chat_id, Message.parent_id == message.parent_id)
            .order_by(col(Message.seq))
        )
    )


def places(rows: Sequence[Message], *, session: Session) -> dict[uuid.UUID, tuple[int, int]]:
    """Each message's place among its versions (1-based) and how many versions there are, read in
    one query for all of them."""
    if not rows:
        return {}
    groups = {(m.chat_id, m.parent_id) for m in rows}
    parents = [p for _, p in groups if p is not None]
    in_chats = col(Message.chat_id).in_({c for c, _ in groups})  # the index leads with the chat
    found = session.execute(
        sa.select(col(Message.id), col(Message.chat_id), col(Message.parent_id))
        .where(in_chats, sa.or_(col(Message.parent_id).in_(parents), col(Message.parent_id).is_(None)))
        .order_by(col(Message.seq))
    ).all()
    by_group: dict[tuple[uuid.UUID, uuid.UUID | None], list[uuid.UUID]] = {}
    for message_id, chat_id, parent_id in found:
        by_group.setdefault((chat_id, parent_id), []).append(message_id)
    result = {}
    for m in rows:
        versions = by_group.get((m.chat_id, m.parent_id), [m.id])
        result[m.id] = (versions.index(m.id) + 1 if m.id in versions else 1, len(versions))
    return result


def attach(message: Message, parent: Message | None) -> None:
    """Place `message` below `parent` (None: as a first message)."""
    message.parent_id = parent.id if parent else None
    message.depth = parent.depth + 1 if parent else 1


def chain(chat: Chat, messages: Sequence[Message], *, first_seq: int = 1) -> None:
    """Messages written as one branch of `chat`, in order (a copy, an import): the chat shows it."""
    parent: Message | None = None
    for seq, message in enumerate(messages, start=first_seq):
        message.chat_id, message.seq = chat.id, seq
        attach(message, parent)
        parent = message
    if parent is not None:
        chat.current_leaf_id = parent.id
