"""Bodies the server reads whole (a JSON object, a sign-in form): of the type they declare, and
capped while they arrive, so an oversized body is refused (413) after at most the cap was read.

Uploads are not read here: they stream to storage with limits of their own (api/media.py).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from chat_app.api.common import RequestRefused
from chat_app.services.errors import Invalid
from chat_app.settings import get_settings

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 50  # a sign-in form has three


def media_type(request: Request) -> str:
    """The declared Content-Type without its parameters (`; charset=utf-8`), in lower case."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _too_large(limit: int) -> RequestRefused:
    return RequestRefused(
        f"The request body is larger than the {limit // 1024} KB this server accepts.",
        status=413,
        code="too_large",
    )


async def capped_body(request: Request) -> bytes:
    """The whole body, refused as soon as its declared length or the bytes read pass the cap."""
    limit = get_settings().max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a client that declared less, or sent no length (chunked)
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object. It must say it is JSON: a cross-site page can post `text/plain`
    without asking first, never `application/json`."""
    if media_type(request) != JSON:
        raise RequestRefused(
            "Send the body as JSON, with the header Content-Type: application/json.",
            status=415,
            code="content_type",
        )
    raw = await capped_body(request)
    try:
        body = json.loads(raw)
    except ValueError:
        raise Invalid("The request body is not valid JSON.") from None
    except RecursionError:  # thousands of nested brackets
        raise Invalid("The request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise Invalid("The request body must be a JSON object.")
    return body


async def form_fields(request: Request) -> dict[str, str]:
    """A posted HTML form's fields. Only the urlencoded kind: a multipart form could carry files,
    which would be spooled to disk before anyone looked at them."""
    if media_type(request) != FORM:
        raise RequestRefused(
            "Send the form as application/x-www-form-urlencoded, or the fields as JSON.",
            status=415,
            code="content_type",
        )
    raw = (await capped_body(request)).decode("latin-1")  # percent-encoded: ASCII on the wire
    try:
        return dict(parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
    except ValueError:
        raise Invalid(f"A form has at most {MAX_FORM_FIELDS} fields.") from None
