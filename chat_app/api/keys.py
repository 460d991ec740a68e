"""A person's own provider keys over HTTP; answers carry only "set" and the last four characters."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chat_app.api.common import in_thread, json_object, require_user
from chat_app.db import session_scope
from chat_app.services import keys
from chat_app.services.errors import Invalid


async def list_keys(request: Request) -> Response:
    def work():
        with session_scope() as session:
            return keys.summaries(require_user(request, session=session), session=session)

    return JSONResponse(await in_thread(work))


async def one_key(request: Request) -> Response:
    provider = request.path_params["provider"]
    body = await json_object(request) if request.method == "PUT" else {}

    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            if request.method == "DELETE":
                keys.delete_key(user, provider, session=session)
                return None
            if not isinstance(body.get("api_key"), str):
                raise Invalid("Send the key as a string in `api_key`.")
            return keys.set_key(user, provider, body["api_key"], session=session)

    result = await in_thread(work)
    return Response(status_code=204) if result is None else JSONResponse(result)


def routes() -> list[Route]:
    return [
        Route("/api/keys", list_keys, methods=["GET"]),
        Route("/api/keys/{provider}", one_key, methods=["PUT", "DELETE"]),
    ]
