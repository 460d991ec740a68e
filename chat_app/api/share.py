"""Sharing over HTTP: the owner's settings and invitations, reading by link, copying a chat."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chat_app.api.chats import chat_payload
from chat_app.api.common import current_user, in_thread, json_object, require_user
from chat_app.db import session_scope
from chat_app.services import access, sharing
from chat_app.services.errors import Invalid, NotFound
from chat_app.services.views import chat_view


def _chat_id(source: dict) -> str:
    chat_id = source.get("chat_id")
    if not isinstance(chat_id, str) or not chat_id:
        raise Invalid("Name the chat with `chat_id`.")
    return chat_id


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise Invalid(f"`{name}` must be true or false.")
    return value


async def share(request: Request) -> Response:
    # GET and DELETE may name the chat (and person) in the query; writes send JSON.
    has_body = request.method in ("POST", "PATCH") or int(request.headers.get("content-length") or 0) > 0
    body = await json_object(request) if has_body else dict(request.query_params)
    chat_id = _chat_id(body)

    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            fresh = []
            if request.method == "POST":
                fresh = sharing.invite(
                    user, chat_id, body.get("emails"), _flag(body, "can_edit"), session=session
                )
            elif request.method == "PATCH":
                if "is_public" in body:
                    sharing.set_public(user, chat_id, _flag(body, "is_public"), session=session)
                if "email" in body or "can_edit" in body:
                    sharing.set_can_edit(
                        user, chat_id, str(body.get("email", "")), _flag(body, "can_edit"), session=session
                    )
            elif request.method == "DELETE":
                sharing.remove_invite(user, chat_id, str(body.get("email", "")), session=session)
                return None, []
            return sharing.share_view(user, chat_id, session=session), fresh

    view, fresh = await in_thread(work)
    if view is None:
        return Response(status_code=204)
    if request.method == "POST":
        emailed = await in_thread(sharing.notify, fresh)  # after the commit: a slow mail server holds nothing
        return JSONResponse({**view, "emailed": emailed}, status_code=201)
    return JSONResponse(view)


async def rotate(request: Request) -> Response:
    chat_id = _chat_id(await json_object(request))

    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            sharing.rotate_link(user, chat_id, session=session)
            return sharing.share_view(user, chat_id, session=session)

    return JSONResponse(await in_thread(work))


async def by_link(request: Request) -> Response:
    """A chat by its share link: for a public chat anyone, otherwise its members; 404 for the rest."""
    token = request.path_params["token"]

    def work():
        with session_scope() as session:
            user = current_user(request, session=session)
            visit = sharing.open_link(user, token, session=session)
            if visit.outcome not in (sharing.Outcome.open, sharing.Outcome.public):
                raise NotFound("This chat does not exist, or you do not have access to it.")
            chat, role = access.authorize(user, visit.chat_id, "read", session=session)
            return chat_payload(chat, role, session=session)

    return JSONResponse(await in_thread(work))


async def shared_with_me(request: Request) -> Response:
    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            return [chat_view(c) for c in sharing.shared_with(user, session=session)]

    return JSONResponse(await in_thread(work))


async def claim(request: Request) -> Response:
    token = request.path_params["token"]

    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            return {"chat_id": sharing.claim_invite(user, token, session=session)}

    return JSONResponse(await in_thread(work))


async def copy(request: Request) -> Response:
    chat_id = request.path_params["chat_id"]

    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            return chat_view(sharing.continue_in_my_account(user, chat_id, session=session))

    return JSONResponse(await in_thread(work), status_code=201)


def routes() -> list[Route]:
    return [
        Route("/api/share", share, methods=["GET", "POST", "PATCH", "DELETE"]),
        Route("/api/share/rotate", rotate, methods=["POST"]),
        Route("/api/shared", shared_with_me, methods=["GET"]),
        Route("/api/shared/{token}", by_link, methods=["GET"]),
        Route("/api/invites/{token}", claim, methods=["POST"]),
        Route("/api/chats/{chat_id}/copy", copy, methods=["POST"]),
    ]
