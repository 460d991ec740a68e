"""Personal API tokens over HTTP, for the signed-in person (session cookie only: a token never
makes or revokes tokens). A token is answered whole once, when it is made."""

from __future__ import annotations

from sqlmodel import Session

from chat_app.api.endpoints import JsonObject, Router
from chat_app.models import User
from chat_app.services import api_tokens
from chat_app.services.api_tokens import NewToken, TokenSummary
from chat_app.services.errors import Invalid

router = Router()


@router.get("/api/tokens")
def list_tokens(user: User, session: Session) -> list[TokenSummary]:
    """Your API tokens that still work, the newest first (never the tokens themselves)."""
    return api_tokens.list_tokens(user, session=session)


@router.post("/api/tokens", status_code=201)
def create_token(user: User, session: Session, body: JsonObject) -> NewToken:
    """A new API token, named after the program that will use it; `token` is shown this once."""
    if not isinstance(body.get("name"), str):
        raise Invalid("Send the token's name as a string in `name`.")
    return api_tokens.create(user, body["name"], session=session)


@router.delete("/api/tokens/{token_id}")
def revoke_token(user: User, session: Session, token_id: str) -> None:
    """Revoke one of your API tokens: it stops working at once."""
    api_tokens.revoke(user, token_id, session=session)
