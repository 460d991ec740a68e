"""THE access rule: who may do what with a chat. No other code decides access."""

from __future__ import annotations

import enum
import hmac
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from chat_app.models import Chat, MediaFile, SharedAccess, User
from chat_app.services.errors import Forbidden, NotFound
from chat_app.settings import get_settings


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
    "pin": frozenset({Role.owner}),
    "delete": frozenset({Role.owner}),
    "share": frozenset({Role.owner}),
    "rotate": frozenset({Role.owner}),
    "set_model": frozenset({Role.owner}),
}


_REFUSALS = {
    "post": "You can read this chat but not write in it.",
    "stop": "You can read this chat but not stop its replies.",
    "rename": "Only the owner can rename this chat.",
    "pin": "Only the owner can pin this chat.",
    "delete": "Only the owner can delete this chat.",
    "share": "Only the owner can share this chat.",
    "rotate": "Only the owner can change this chat's link.",
    "set_model": "Only the owner can change this chat's model.",
}


class NoAccess(NotFound):
    """The actor has no access to the chat at all (or it does not exist): views show "no access"."""


_NO_ACCESS = "This chat does not exist, or you do not have access to it."


def role_for(actor: User | None, chat: Chat, *, session: Session, link_token: str | None = None) -> Role:
    """The actor's role in the chat; anonymous visitors are `None`.

    A public chat lets anyone read it, but only through its current link: `link_token` is the
    token of the link the reader came by. A chat id alone, or a link since rotated, lets nobody in.
    """
    role = member_role(actor, chat, session=session)
    if role is Role.none and chat.is_public and is_current_link(chat, link_token):
        return Role.viewer
    return role


def is_current_link(chat: Chat, link_token: str | None) -> bool:
    """Whether `link_token` is the chat's share token as it is now (compared in constant time)."""
    if not isinstance(link_token, str) or not link_token:
        return False
    return hmac.compare_digest(link_token.encode(), chat.share_token.encode())


def member_role(actor: User | None, chat: Chat, *, session: Session) -> Role:
    """The role the actor holds as owner or invitee, leaving aside whether the chat is public."""
    if actor is None:
        return Role.none
    if chat.user_id == actor.id:
        return Role.owner
    invite = session.exec(
        select(SharedAccess).where(SharedAccess.chat_id == chat.id, counts_for(actor))
    ).first()
    if invite is None:
        return Role.none
    return Role.editor if invite.can_edit else Role.viewer


def readable_chats(actor: User):
    """SQL condition on `chat_sessions`: the chats the actor reads as a member (owner or invitee),
    for queries over many chats at once (search); a public chat's link is not membership."""
    invited = sa.select(col(SharedAccess.chat_id)).where(counts_for(actor))
    return sa.or_(col(Chat.user_id) == actor.id, col(Chat.id).in_(invited))


def counts_for(actor: User):
    """SQL condition on `shared_access`: the invitations that let `actor` in.

    An invitation bound to an account (through its own link) counts for that account alone;
    an unbound one for the account whose email is the invited one *and verified*, since anyone
    can register an address they do not own.
    """
    bound = col(SharedAccess.user_id) == actor.id
    if not actor.email_verified:
        return bound
    return sa.or_(bound, sa.and_(col(SharedAccess.user_id).is_(None), col(SharedAccess.email) == actor.email))


def can(role: Role, action: str) -> bool:
    return role in _ALLOWED[action]


@dataclass(frozen=True)
class Permissions:
    """What a page may offer its reader in a chat: the same rule, as flags the page can show."""

    can_post: bool
    can_stop: bool
    can_share: bool
    can_rename: bool
    can_delete: bool
    can_set_model: bool


def permissions(role: Role) -> Permissions:
    return Permissions(
        can_post=can(role, "post"),
        can_stop=can(role, "stop"),
        can_share=can(role, "share"),
        can_rename=can(role, "rename"),
        can_delete=can(role, "delete"),
        can_set_model=can(role, "set_model"),
    )


# A person writing the first message of a new chat is about to own it.
NEW_CHAT = permissions(Role.owner)


def ensure(role: Role, action: str) -> None:
    """Raise Forbidden, with the sentence people read, unless `role` may do `action`."""
    if not can(role, action):
        raise Forbidden(_REFUSALS.get(action, "You cannot do that in this chat."))


def authorize(
    actor: User | None,
    chat_id: uuid.UUID | str,
    action: str,
    *,
    session: Session,
    link_token: str | None = None,
) -> tuple[Chat, Role]:
    """Load a chat the actor may act on, or raise NotFound.

    Anything short of permission is "not found", so nobody learns that a chat exists.
    `link_token`: the share link a non-member reads a public chat through (see `role_for`).
    """
    chat = session.get(Chat, _as_uuid(chat_id))
    if chat is None:
        raise NoAccess(_NO_ACCESS)
    role = role_for(actor, chat, session=session, link_token=link_token)
    if role is Role.none:
        raise NoAccess(_NO_ACCESS)
    ensure(role, action)
    return chat, role


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NoAccess(_NO_ACCESS) from None


_NO_FILE = "This file does not exist, or you do not have access to it."


def authorize_media(
    actor: User | None, media_id: uuid.UUID | str, *, session: Session, link_token: str | None = None
) -> MediaFile:
    """A file may be read by whoever may read its chat (non-members of a public chat through its
    current link, like the chat itself); an unsent upload by its owner alone."""
    try:
        row = session.get(MediaFile, uuid.UUID(str(media_id)))
    except ValueError:
        raise NotFound(_NO_FILE) from None
    if row is None:
        raise NotFound(_NO_FILE)
    if row.chat_id is None:
        if actor is None or row.owner_id != actor.id:
            raise NotFound(_NO_FILE)
        return row
    try:
        authorize(actor, row.chat_id, "read", session=session, link_token=link_token)
    except NotFound:
        raise NotFound(_NO_FILE) from None
    return row


# ----- the operator role ------------------------------------------------------------------------
# Who may use the operator's powers (people, their limits, registration). No other code decides it.

_NOT_ADMIN = "Only the server's administrators can do this."


def is_admin(actor: User | None) -> bool:
    """The first account (or one an administrator made so), or one whose *confirmed* address
    ADMIN_EMAILS names: anyone can register an address they do not own. Never a disabled account."""
    if actor is None or actor.disabled:
        return False
    return actor.is_admin or is_admin_by_setting(actor)


def is_admin_by_setting(person: User) -> bool:
    """Named in ADMIN_EMAILS with a confirmed address: no administrator's change undoes that."""
    return person.email_verified and person.email.lower() in get_settings().admin_emails


def require_admin(actor: User | None) -> User:
    """The actor, when an administrator; Forbidden for anyone else."""
    if actor is None or not is_admin(actor):
        raise Forbidden(_NOT_ADMIN)
    return actor
