"""Sharing over HTTP: the owner's settings and invitations, reading by link, copying a chat."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session
from starlette.datastructures import QueryParams

from chat_app.api.chats import chat_payload
from chat_app.api.common import in_thread
from chat_app.api.endpoints import JsonObject, Router
from chat_app.models import User
from chat_app.services import access, replies, sharing
from chat_app.services.errors import Invalid, NotFound
from chat_app.services.views import ChatView, chat_view

router = Router()


def _chat_id(source: Mapping[str, Any]) -> str:
    chat_id = source.get("chat_id")
    if not isinstance(chat_id, str) or not chat_id:
        raise Invalid("Name the chat with `chat_id`.")
    return chat_id


def _flag(body: JsonObject, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise Invalid(f"`{name}` must be true or false.")
    return value


@router.get("/api/share")
def read_share(
    user: User, session: Session, query: QueryParams, body: JsonObject | None
) -> sharing.ShareView:
    # GET and DELETE may name the chat (and person) in the query; writes send JSON.
    return sharing.share_view(user, _chat_id(query if body is None else body), session=session)


async def _email_invitations(invited: tuple[sharing.ShareView, sharing.Mailing]) -> dict:
    """After the commit: a slow mail server holds no transaction open. `not_emailed` says why
    new invitations were not emailed ("" when there is nothing to say)."""
    view, mailing = invited
    emailed = await in_thread(sharing.notify, mailing.invitations)
    return {**view, "emailed": emailed, "not_emailed": mailing.withheld}


@router.post("/api/share", status_code=201, then=_email_invitations)
def invite(user: User, session: Session, body: JsonObject) -> tuple[sharing.ShareView, sharing.Mailing]:
    chat_id = _chat_id(body)
    fresh = sharing.invite(user, chat_id, body.get("emails"), _flag(body, "can_edit"), session=session)
    return sharing.share_view(user, chat_id, session=session), sharing.mailing(user, fresh)


async def _access_changed(changed: tuple[str, Any]) -> Any:
    """After the commit: the chat's open views check their access at once."""
    chat_id, answer = changed
    replies.announce_access(chat_id)
    return answer


@router.patch("/api/share", then=_access_changed)
def update_share(user: User, session: Session, body: JsonObject) -> tuple[str, sharing.ShareView]:
    chat_id = _chat_id(body)
    if "is_public" in body:
        sharing.set_public(user, chat_id, _flag(body, "is_public"), session=session)
    if "email" in body or "can_edit" in body:
        sharing.set_can_edit(
            user, chat_id, str(body.get("email", "")), _flag(body, "can_edit"), session=session
        )
    return chat_id, sharing.share_view(user, chat_id, session=session)


@router.delete("/api/share", then=_access_changed)
def remove_invite(
    user: User, session: Session, query: QueryParams, body: JsonObject | None
) -> tuple[str, None]:
    source = query if body is None else body
    chat_id = _chat_id(source)
    sharing.remove_invite(user, chat_id, str(source.get("email", "")), session=session)
    return chat_id, None


@router.post("/api/share/rotate", then=_access_changed)
def rotate(user: User, session: Session, body: JsonObject) -> tuple[str, sharing.ShareView]:
    chat_id = _chat_id(body)
    sharing.rotate_link(user, chat_id, session=session)
    return chat_id, sharing.share_view(user, chat_id, session=session)


@router.get("/api/shared")
def shared_with_me(user: User, session: Session) -> list[ChatView]:
    return [chat_view(c) for c in sharing.shared_with(user, session=session)]


@router.get("/api/shared/{token}")
def by_link(user: User | None, session: Session, token: str) -> dict:
    """A chat by its share link: for a public chat anyone, otherwise its members; 404 for the rest."""
    visit = sharing.open_link(user, token, session=session)
    if visit.outcome not in (sharing.Outcome.open, sharing.Outcome.public):
        raise NotFound("This chat does not exist, or you do not have access to it.")
    chat, role = access.authorize(user, visit.chat_id, "read", session=session, link_token=token)
    return chat_payload(chat, role, session=session, link_token=token)


@router.post("/api/invites/{token}")
def claim(user: User, session: Session, token: str) -> dict:
    return {"chat_id": sharing.claim_invite(user, token, session=session)}


@router.post("/api/chats/{chat_id}/copy", status_code=201)
def copy(user: User, session: Session, chat_id: str, query: QueryParams) -> ChatView:
    """`?link=<token>`: a public chat's link, for someone who reads it by that link."""
    return chat_view(
        sharing.continue_in_my_account(user, chat_id, session=session, link_token=query.get("link"))
    )
