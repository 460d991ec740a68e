"""Chats over HTTP: list, create, read, rename, delete, post a message, edit one, regenerate a
reply, move between versions, stop a reply, read the summary a reply was sent with."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse, Response

from chat_app.api.endpoints import JsonObject, Router, whole_number
from chat_app.models import Chat, User
from chat_app.services import access, branches, chats, replies
from chat_app.services.access import Role
from chat_app.services.errors import Invalid
from chat_app.services.views import ChatView, MessageView, SummaryView, chat_view

router = Router()

# A posted message as its transaction leaves it: the chat, the reply's plan, both messages' views.
Posted = tuple[str, replies.Plan, MessageView, MessageView]


def _model_id(body: JsonObject) -> str | None:
    """The model a body names, if any: a string (anything else would reach the catalog's lookups)."""
    model_id = body.get("model_id")
    if model_id is not None and not isinstance(model_id, str):
        raise Invalid("Name the model by its id, as a string in `model_id`.")
    return model_id


CHATS_PAGE = 50  # chats a page of GET /api/chats holds unless `limit` says otherwise
MOST_CHATS_PAGE = 200


@router.get("/api/chats")
def list_chats(user: User, session: Session, query: QueryParams) -> Response:
    """The person's own chats, most recently active first, a page at a time: `limit` (1–200,
    default 50) and `after` (the cursor of the page before). When there are more, the `Link`
    header gives the next page's address (rel="next")."""
    limit = whole_number(query, "limit", CHATS_PAGE)
    if not 1 <= limit <= MOST_CHATS_PAGE:
        raise Invalid(f"Ask for 1 to {MOST_CHATS_PAGE} chats at a time.")
    rows, more = chats.recent_chats(
        user, session=session, limit=limit, after=query.get("after", ""), pinned_too=True
    )
    headers = {"Link": f'</api/chats?limit={limit}&after={quote(more)}>; rel="next"'} if more else None
    return JSONResponse([chat_view(c) for c in rows], headers=headers)


@router.post("/api/chats", status_code=201)
def create_chat(user: User, session: Session, body: JsonObject) -> ChatView:
    return chat_view(chats.create_chat(user, session=session, model_id=_model_id(body)))


@router.get("/api/chats/{chat_id}")
def read_chat(user: User | None, session: Session, chat_id: str) -> dict:
    """A chat its members read; others read a public chat by its link alone (`/api/shared/{token}`),
    so that changing the link ends every other way in."""
    chat, role = access.authorize(user, chat_id, "read", session=session)
    return chat_payload(chat, role, session=session)


@router.patch("/api/chats/{chat_id}")
def update_chat(user: User, session: Session, chat_id: str, body: JsonObject) -> dict:
    if "title" in body:
        chats.rename_chat(user, chat_id, str(body["title"]), session=session)
    if "model_id" in body:
        chats.set_chat_model(user, chat_id, str(body["model_id"]), session=session)
    if "pinned" in body:
        if not isinstance(body["pinned"], bool):
            raise Invalid("Say `pinned` as true or false.")
        chats.pin_chat(user, chat_id, body["pinned"], session=session)
    return read_chat(user, session, chat_id)


@router.delete("/api/chats/{chat_id}")
def delete_chat(user: User, session: Session, chat_id: str) -> None:
    chats.delete_chat(user, chat_id, session=session)


def chat_payload(
    chat: Chat, role: Role, *, session: Session, link_token: str = "", leaf: uuid.UUID | None = None
) -> dict:
    """A chat with the reader's role and the messages of its selected branch, or of the branch
    ending at `leaf` (each with its files, whose addresses carry `link_token` for a reader who
    came by the link, and its place among its versions)."""
    if leaf is None:
        rows = chats.branch_of(chat, session=session)
    else:
        rows = chats.branch_above(leaf, session=session, limit=None)
    return {
        **chat_view(chat),
        "role": role.value,
        "current_leaf_id": str(rows[-1].id) if rows else None,
        "messages": chats.message_views(rows, session=session, link_token=link_token),
    }


@router.get("/api/chats/{chat_id}/tree")
def read_tree(user: User, session: Session, chat_id: str) -> dict:
    """Every message of a chat, all branches, in the order they were written: `parent_id` links
    each to the message it follows; `current_leaf_id` ends the branch the chat shows."""
    chat, role = access.authorize(user, chat_id, "read", session=session)
    return {
        **chat_view(chat),
        "role": role.value,
        "current_leaf_id": str(branches.leaf_of(chat, session=session) or "") or None,
        "messages": chats.message_views(chats.messages_of(chat.id, session=session), session=session),
    }


@router.get("/api/chats/{chat_id}/messages/{message_id}/summary")
def read_summary(user: User | None, session: Session, chat_id: str, message_id: str) -> SummaryView:
    """The summary of earlier messages a reply's prompt was sent with (its `summary_id` is set),
    in place of messages that no longer fit the model's window (SUMMARY_MODEL)."""
    return chats.summary_sent_with(user, chat_id, message_id, session=session)


async def _start_reply(posted: Posted) -> dict:
    """The reply starts once its pending row is committed."""
    chat_id, plan, mine, reply = posted
    replies.start_reply(chat_id, reply["id"], plan=plan)
    return {"message": mine, "reply": reply}


@router.post("/api/chats/{chat_id}/messages", status_code=202, then=_start_reply)
def post_message(user: User, session: Session, chat_id: str, body: JsonObject) -> Posted:
    content = body.get("content", "")
    if not isinstance(content, str):
        raise Invalid("Send the message text as a string in `content`.")
    attachments = body.get("attachments", [])
    if not isinstance(attachments, list) or not all(isinstance(a, str) for a in attachments):
        raise Invalid("Send `attachments` as a list of uploaded file ids.")
    mine, reply = chats.post_message(
        user, chat_id, content, session=session, model_id=_model_id(body), attachment_ids=attachments
    )
    plan = replies.plan_for(reply, session=session)  # notes on the reply what its prompt left out
    mine_view, reply_view = chats.message_views([mine, reply], session=session)
    return str(mine.chat_id), plan, mine_view, reply_view


def _message_text(body: JsonObject) -> str:
    content = body.get("content", "")
    if not isinstance(content, str):
        raise Invalid("Send the message text as a string in `content`.")
    return content


@router.post("/api/chats/{chat_id}/messages/{message_id}/versions", status_code=202, then=_start_reply)
def edit_message(user: User, session: Session, chat_id: str, message_id: str, body: JsonObject) -> Posted:
    """A new version of one of your messages (`content`), beside the old one, and a reply to it:
    the chat now shows that branch."""
    mine, reply = chats.edit_message(
        user, chat_id, message_id, _message_text(body), session=session, model_id=_model_id(body)
    )
    plan = replies.plan_for(reply, session=session)
    mine_view, reply_view = chats.message_views([mine, reply], session=session)
    return str(mine.chat_id), plan, mine_view, reply_view


async def _start_again(started: tuple[str, replies.Plan, MessageView]) -> dict:
    chat_id, plan, reply = started
    replies.start_reply(chat_id, reply["id"], plan=plan)
    return {"reply": reply}


@router.post("/api/chats/{chat_id}/regenerate", status_code=202, then=_start_again)
def regenerate(
    user: User, session: Session, chat_id: str, body: JsonObject
) -> tuple[str, replies.Plan, MessageView]:
    """A new version of the reply that ends the chat's selected branch (`model_id` optional); a
    reply that failed before writing anything is retried in place."""
    reply = chats.regenerate_reply(user, chat_id, session=session, model_id=_model_id(body))
    plan = replies.plan_for(reply, session=session)
    return str(reply.chat_id), plan, chats.message_views([reply], session=session)[0]


async def _announce(switched: tuple[bool, dict]) -> dict:
    kept, payload = switched
    if kept:
        replies.announce_branch(payload["id"])
    return payload


@router.post("/api/chats/{chat_id}/branch", then=_announce)
def switch_branch(user: User, session: Session, chat_id: str, body: JsonObject) -> tuple[bool, dict]:
    """Move from a message (`message_id`) to its previous (`step` -1) or next (+1) version: the
    chat with the newest branch below it. A member who may write leaves it selected for everyone."""
    message_id, step = body.get("message_id"), body.get("step")
    if not isinstance(message_id, str) or step not in (-1, 1) or isinstance(step, bool):
        raise Invalid("Name the message by its id in `message_id`, and `step` as -1 or 1.")
    leaf = chats.switch_branch(user, chat_id, message_id, int(step), session=session)
    chat, role = access.authorize(user, chat_id, "read", session=session)
    return access.can(role, "post"), chat_payload(chat, role, session=session, leaf=leaf)


async def _stop_replies(chat_id: str) -> dict:
    return {"stopped": await replies.stop_in_chat(chat_id)}


@router.post("/api/chats/{chat_id}/stop", then=_stop_replies)
def stop(user: User, session: Session, chat_id: str) -> str:
    """The chat to stop, once the user may stop its reply."""
    chat, _ = access.authorize(user, chat_id, "stop", session=session)
    return str(chat.id)
