"""THE access rule: who may do what with a chat. No other code decides access."""

from __future__ import annotations

import enum
import uuid

from sqlmodel import Session, select

from chat_app.models import ChatSession, SharedAccess, User
from chat_app.services.errors import Forbidden, NotFound


class Role(enum.StrEnum):
    owner = "owner"
    editor = "editor"
    viewer = "viewer"
    none = "none"


# What each role may do. Actions name what a handler or route is about to do.
_ALLOWED: dict[str, frozenset[Role]] = {
    "read": frozenset({Role.owner, Role.editor, Role.viewer}),
    "post": frozenset({Role.owner, Role.editor}),
    "stop": frozenset({Role.owner, Role.editor}),
    "rename": frozenset({Role.owner}),
    "delete": frozenset({Role.owner}),
    "share": frozenset({Role.owner}),
    "set_model": frozenset({Role.owner}),
}


_REFUSALS = {
    "post": "You can read this chat but not write in it.",
    "stop": "You can read this chat but not stop its replies.",
    "rename": "Only the owner can rename this chat.",
    "delete": "Only the owner can delete this chat.",
    "share": "Only the owner can share this chat.",
    "set_model": "Only the owner can change this chat's model.",
}


def role_for(actor: User | None, chat: ChatSession, *, session: Session) -> Role:
    """The actor's role in the chat; anonymous visitors are `None`."""
    if actor is not None and chat.user_id == actor.id:
        return Role.owner
    if actor is not None and actor.email_verified:
        invite = session.exec(
            select(SharedAccess).where(
                SharedAccess.session_id == chat.id, SharedAccess.email == actor.email
            )
        ).first()
        if invite is not None:
            return Role.editor if invite.can_edit else Role.viewer
    if chat.is_public:
        return Role.viewer
    return Role.none


def can(role: Role, action: str) -> bool:
    return role in _ALLOWED[action]


def authorize(
    actor: User | None, chat_id: uuid.UUID | str, action: str, *, session: Session
) -> tuple[ChatSession, Role]:
    """Load a chat the actor may act on, or raise NotFound.

    Anything short of permission is "not found", so nobody learns that a chat exists.
    """
    chat = session.get(ChatSession, _as_uuid(chat_id))
    if chat is None:
        raise NotFound("This chat does not exist, or you do not have access to it.")
    role = role_for(actor, chat, session=session)
    if role is Role.none:
        raise NotFound("This chat does not exist, or you do not have access to it.")
    if not can(role, action):
        raise Forbidden(_REFUSALS.get(action, "You cannot do that in this chat."))
    return chat, role


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("This chat does not exist, or you do not have access to it.") from None
