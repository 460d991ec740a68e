"""The model catalog over HTTP: GET /api/models with filters and sorting."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chat_app.api.common import in_thread, require_user
from chat_app.db import session_scope
from chat_app.services import catalog
from chat_app.services.errors import Invalid

_PARAMS = {"type", "provider", "capability", "q", "sort", "order"}


async def list_models(request: Request) -> Response:
    params = request.query_params
    unknown = set(params.keys()) - _PARAMS
    if unknown:
        raise Invalid(f"Unknown query parameter {sorted(unknown)[0]!r}: use {', '.join(sorted(_PARAMS))}.")
    for name in _PARAMS - {"capability"}:
        if len(params.getlist(name)) > 1:
            raise Invalid(f"Give {name!r} once.")

    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            return catalog.list_models(
                session=session,
                reader=user,
                type=params.get("type"),
                provider=params.get("provider"),
                capabilities=tuple(params.getlist("capability")),
                q=params.get("q"),
                sort=params.get("sort", "name"),
                order=params.get("order", "asc"),
            )

    return JSONResponse(await in_thread(work))


def routes() -> list[Route]:
    return [Route("/api/models", list_models, methods=["GET"])]
