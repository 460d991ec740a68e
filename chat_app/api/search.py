"""Search over one's chats (titles and messages)."""

from __future__ import annotations

from sqlmodel import Session
from starlette.datastructures import QueryParams

from chat_app.api.endpoints import Router
from chat_app.models import User
from chat_app.services import search
from chat_app.services.errors import Invalid

router = Router()


@router.get("/api/search")
def search_chats(user: User, session: Session, query: QueryParams) -> dict:
    """`?q=` words (each the start of a word, all required) and `limit` (1–50, default 20): chats
    whose title matches, then messages, newest first; each with a snippet in parts (`hit`: the
    part matched)."""
    raw_limit = query.get("limit", "20")
    if not raw_limit.isdigit():
        raise Invalid(f"Ask for 1 to {search.MOST_RESULTS} results.")
    return {"results": search.search(user, query.get("q", ""), session=session, limit=int(raw_limit))}
