"""Conversations brought from elsewhere (services/imports.py): the file is the request's body,
streamed to a staging file (never held whole) and read once it is all there."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.requests import Request

from chat_app.api.endpoints import Router
from chat_app.models import User
from chat_app.services import imports
from chat_app.services.errors import Invalid
from chat_app.services.storage import get_storage
from chat_app.settings import get_settings

router = Router()

ACCEPTED = ("application/json", "application/zip", "application/octet-stream")


@router.post("/api/import", status_code=201)
async def import_conversations(user: User, request: Request) -> imports.ImportReport:
    """The body is the file itself (`Content-Type: application/json` or `application/zip`), at most
    MAX_IMPORT_MB: our chat's JSON or zip, ChatGPT's or Claude's conversations.json, Open WebUI's
    export, or a LibreChat conversation. Each conversation becomes a chat of yours, whole or not at all; the answer lists both."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ACCEPTED:
        raise Invalid("Send the exported file as the body, as application/json or application/zip.")
    most = int(get_settings().max_import_mb * 1024 * 1024)
    too_large = f"Import files of at most {get_settings().max_import_mb:g} MB."
    if int(request.headers.get("content-length") or 0) > most:
        raise Invalid(too_large)
    with get_storage().staging_file() as staged:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > most:  # a body sent without its length
                raise Invalid(too_large)
            staged.write(chunk)
        staged.flush()
        if not received:
            raise Invalid("The file is empty.")
        return await asyncio.to_thread(imports.import_file, user.id, Path(staged.name))
