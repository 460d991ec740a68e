"""Chats over HTTP: list, create, read, rename, delete, post a message, stop a reply."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chat_app.api.common import current_user, in_thread, json_object, require_user
from chat_app.db import session_scope
from chat_app.services import access, chats, replies
from chat_app.services.errors import Invalid
from chat_app.services.views import chat_view


async def list_or_create(request: Request) -> Response:
    body = await json_object(request) if request.method == "POST" else {}

    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            if request.method == "POST":
                return chat_view(chats.create_chat(user, session=session, model_id=body.get("model_id")))
            return [chat_view(c) for c in chats.list_chats(user, session=session)]

    result = await in_thread(work)
    return JSONResponse(result, status_code=201 if request.method == "POST" else 200)


async def one_chat(request: Request) -> Response:
    chat_id = request.path_params["chat_id"]
    body = await json_object(request) if request.method == "PATCH" else {}

    def work():
        with session_scope() as session:
            # A public chat can be read signed out, like its link; changes need a signed-in user.
            if request.method == "GET":
                user = current_user(request, session=session)
            else:
                user = require_user(request, session=session)
            if request.method == "DELETE":
                chats.delete_chat(user, chat_id, session=session)
                return None
            if request.method == "PATCH":
                if "title" in body:
                    chats.rename_chat(user, chat_id, str(body["title"]), session=session)
                if "model_id" in body:
                    chats.set_chat_model(user, chat_id, str(body["model_id"]), session=session)
            chat, role = access.authorize(user, chat_id, "read", session=session)
            return chat_payload(chat, role, session=session)

    result = await in_thread(work)
    return Response(status_code=204) if result is None else JSONResponse(result)


def chat_payload(chat, role, *, session) -> dict:
    """A chat with the reader's role and its messages (each with its files)."""
    return {
        **chat_view(chat),
        "role": role.value,
        "messages": chats.message_views(chats.messages_of(chat.id, session=session), session=session),
    }


async def post_message(request: Request) -> Response:
    chat_id = request.path_params["chat_id"]
    body = await json_object(request)

    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            content = body.get("content", "")
            if not isinstance(content, str):
                raise Invalid("Send the message text as a string in `content`.")
            attachments = body.get("attachments", [])
            if not isinstance(attachments, list) or not all(isinstance(a, str) for a in attachments):
                raise Invalid("Send `attachments` as a list of uploaded file ids.")
            mine, reply = chats.post_message(
                user,
                chat_id,
                content,
                session=session,
                model_id=body.get("model_id"),
                attachment_ids=attachments,
            )
            views = chats.message_views([mine, reply], session=session)
            return str(mine.session_id), replies.plan_for(reply, session=session), *views

    real_chat_id, plan, mine, reply = await in_thread(work)
    replies.start_reply(real_chat_id, reply["id"], plan=plan)
    return JSONResponse({"message": mine, "reply": reply}, status_code=202)


async def stop(request: Request) -> Response:
    chat_id = request.path_params["chat_id"]

    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            chat, _ = access.authorize(user, chat_id, "stop", session=session)
            return str(chat.id)

    stopped = await replies.stop_in_chat(await in_thread(work))
    return JSONResponse({"stopped": stopped})


def routes() -> list[Route]:
    return [
        Route("/api/chats", list_or_create, methods=["GET", "POST"]),
        Route("/api/chats/{chat_id}", one_chat, methods=["GET", "PATCH", "DELETE"]),
        Route("/api/chats/{chat_id}/messages", post_message, methods=["POST"]),
        Route("/api/chats/{chat_id}/stop", stop, methods=["POST"]),
    ]
