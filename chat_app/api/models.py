"""The model catalog over HTTP: GET /api/models with filters and sorting."""

from __future__ import annotations

from sqlmodel import Session
from starlette.datastructures import QueryParams

from chat_app.api.endpoints import Router
from chat_app.models import User
from chat_app.services import catalog
from chat_app.services.errors import Invalid

_PARAMS = {"type", "provider", "capability", "q", "sort", "order"}

router = Router()


@router.get("/api/models")
def list_models(user: User, session: Session, query: QueryParams) -> list[dict]:
    unknown = set(query.keys()) - _PARAMS
    if unknown:
        raise Invalid(f"Unknown query parameter {sorted(unknown)[0]!r}: use {', '.join(sorted(_PARAMS))}.")
    for name in _PARAMS - {"capability"}:
        if len(query.getlist(name)) > 1:
            raise Invalid(f"Give {name!r} once.")
    return catalog.list_models(
        session=session,
        reader=user,
        type=query.get("type"),
        provider=query.get("provider"),
        capabilities=tuple(query.getlist("capability")),
        q=query.get("q"),
        sort=query.get("sort", "name"),
        order=query.get("order", "asc"),
    )
