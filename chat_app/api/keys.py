"""A person's own provider keys over HTTP; answers carry only "set" and the last four characters."""

from __future__ import annotations

from sqlmodel import Session

from chat_app.api.endpoints import JsonObject, Router
from chat_app.models import User
from chat_app.services import keys
from chat_app.services.errors import Invalid
from chat_app.services.keys import KeySummary

router = Router()


@router.get("/api/keys")
def list_keys(user: User, session: Session) -> list[KeySummary]:
    return keys.summaries(user, session=session)


@router.put("/api/keys/{provider}")
def set_key(user: User, session: Session, provider: str, body: JsonObject) -> KeySummary:
    if not isinstance(body.get("api_key"), str):
        raise Invalid("Send the key as a string in `api_key`.")
    return keys.set_key(user, provider, body["api_key"], session=session)


@router.delete("/api/keys/{provider}")
def delete_key(user: User, session: Session, provider: str) -> None:
    keys.delete_key(user, provider, session=session)
