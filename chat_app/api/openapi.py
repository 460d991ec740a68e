"""The API describes itself (OpenAPI 3.1, at GET /api/openapi.json) from the routes it serves:
every path and method, its path parameters, whether it wants the signed-in user (by the session
cookie, or by a personal API token), and whether it reads a body. What a body or query holds is
written here for the routes that take one, read from their handlers; a route missing from those
tables is described with a generic JSON object."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount

from chat_app.api import api_page
from chat_app.api.endpoints import Endpoint, EndpointRoute, Need, Router
from chat_app.services import catalog, completions
from chat_app.settings import get_settings

Schema = dict[str, Any]

router = Router()


def _text(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def _fields(properties: dict[str, Schema], *required: str) -> Schema:
    return {"type": "object", "properties": properties, "required": list(required)}


_FLAG: Schema = {"type": "boolean"}
_WHOLE: Schema = {"type": "integer", "minimum": 1}
_TEXTS: Schema = {"type": "array", "items": _text()}
_SIGN_IN = _fields({"email": _text(), "password": _text(), "next": _text()}, "email", "password")


def _number(low: float, high: float) -> Schema:
    return {"type": "number", "minimum": low, "maximum": high}


_TEXT_PART = _fields({"type": _text(enum=["text"]), "text": _text()}, "type", "text")
_TURN = _fields(
    {
        "role": _text(enum=list(completions.ROLES)),
        "content": {"anyOf": [_text(), {"type": "array", "items": _TEXT_PART}]},
    },
    "role",
    "content",
)
# OpenAI's chat completion request, as far as this server takes it (services/completions.py).
_CHAT_COMPLETION = _fields(
    {
        "model": _text(),
        "messages": {"type": "array", "items": _TURN, "minItems": 1},
        "stream": _FLAG,
        "stream_options": _fields({"include_usage": _FLAG}),
        "max_tokens": _WHOLE,
        "max_completion_tokens": _WHOLE,
        "temperature": _number(0, 2),
        "top_p": _number(0, 1),
        "presence_penalty": _number(-2, 2),
        "frequency_penalty": _number(-2, 2),
        "seed": {"type": "integer"},
        "stop": {"anyOf": [_text(), {"type": "array", "items": _text(), "maxItems": completions.MOST_STOPS}]},
        "n": {"type": "integer", "enum": [1]},
        "save": _FLAG,
    },
    "model",
    "messages",
) | {
    "examples": [
        {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hello!"}], "stream": True}
    ]
}

# The bodies the handlers read (api/chats.py, keys.py, share.py, auth.py, media.py), by media type.
BODIES: dict[tuple[str, str], dict[str, Schema]] = {
    ("POST", "/api/chats"): {"application/json": _fields({"model_id": _text()})},
    ("PATCH", "/api/chats/{chat_id}"): {
        "application/json": _fields({"title": _text(), "model_id": _text(), "pinned": _FLAG}),
    },
    ("POST", "/api/chats/{chat_id}/messages"): {
        "application/json": _fields(
            {"content": _text(), "attachments": _TEXTS, "model_id": _text()}, "content"
        ),
    },
    ("POST", "/api/chats/{chat_id}/messages/{message_id}/versions"): {
        "application/json": _fields({"content": _text(), "model_id": _text()}, "content"),
    },
    ("POST", "/api/chats/{chat_id}/regenerate"): {"application/json": _fields({"model_id": _text()})},
    ("POST", "/api/chats/{chat_id}/branch"): {
        "application/json": _fields(
            {"message_id": _text(), "step": {"type": "integer", "enum": [-1, 1]}}, "message_id", "step"
        ),
    },
    ("PUT", "/api/keys/{provider}"): {"application/json": _fields({"api_key": _text()}, "api_key")},
    ("POST", "/api/tokens"): {"application/json": _fields({"name": _text()}, "name")},
    ("POST", "/v1/chat/completions"): {"application/json": _CHAT_COMPLETION},
    ("POST", "/api/share"): {
        "application/json": _fields({"chat_id": _text(), "emails": _TEXTS, "can_edit": _FLAG}, "chat_id"),
    },
    ("PATCH", "/api/share"): {
        "application/json": _fields(
            {"chat_id": _text(), "is_public": _FLAG, "email": _text(), "can_edit": _FLAG}, "chat_id"
        ),
    },
    ("POST", "/api/share/rotate"): {"application/json": _fields({"chat_id": _text()}, "chat_id")},
    ("POST", "/api/auth/login"): {
        "application/json": _SIGN_IN,
        "application/x-www-form-urlencoded": _SIGN_IN,
    },
    ("POST", "/api/auth/register"): {
        "application/json": _SIGN_IN,
        "application/x-www-form-urlencoded": _SIGN_IN,
    },
    ("POST", "/api/upload"): {
        "multipart/form-data": _fields({"file": _text(format="binary")}, "file"),
    },
    ("POST", "/api/import"): {
        "application/json": {"description": "An exported file of conversations, as it is."},
        "application/zip": _text(format="binary"),
    },
}

# The query parameters the handlers read: name -> (schema, required).
QUERIES: dict[tuple[str, str], dict[str, tuple[Schema, bool]]] = {
    ("GET", "/api/models"): {
        "type": (_text(), False),
        "provider": (_text(), False),
        "capability": (_TEXTS, False),
        "q": (_text(), False),
        "sort": (_text(enum=list(catalog.SORTS)), False),
        "order": (_text(enum=list(catalog.ORDERS)), False),
    },
    ("GET", "/api/chats"): {"limit": (_text(pattern="^[0-9]+$"), False), "after": (_text(), False)},
    ("GET", "/api/share"): {"chat_id": (_text(), True)},
    ("GET", "/api/search"): {"q": (_text(), True), "limit": (_text(pattern="^[0-9]+$"), False)},
    ("GET", "/api/chats/{chat_id}/export"): {"format": (_text(enum=["md", "json", "zip"]), False)},
    ("DELETE", "/api/share"): {"chat_id": (_text(), True), "email": (_text(), False)},
    ("GET", "/api/auth/oidc/{name}/login"): {"next": (_text(), False)},
    ("GET", "/api/auth/oidc/{name}/callback"): {"code": (_text(), False), "state": (_text(), False)},
}

# Each router's refusals (api/endpoints.py ErrorShape), by the name of their schema.
ERRORS: dict[str, Schema] = {
    "Error": _fields({"error": _text(), "code": _text()}, "error", "code"),
    "OpenAIError": _fields(
        {
            "error": _fields(
                {"message": _text(), "type": _text(), "param": {"type": ["string", "null"]}, "code": _text()},
                "message",
                "type",
                "code",
            )
        },
        "error",
    ),
}
# What a 401 says, by how the route's requests say who they are (api/endpoints.py Credentials).
UNAUTHENTICATED = {"session": "Sign in first.", "token": "Present a valid personal API token."}


def _security_schemes() -> Schema:
    return {
        "session": {"type": "apiKey", "in": "cookie", "name": get_settings().cookie_name},
        "token": {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (cat_…) from the settings page.",
        },
    }


def operations(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str, Endpoint]]:
    """(method, path, endpoint) of every endpoint among these routes, mounted apps included."""
    for route in routes:
        if isinstance(route, EndpointRoute):
            for method, endpoint in route.endpoints.items():
                yield method, prefix + route.path, endpoint
        elif isinstance(route, Mount):
            yield from operations(route.routes, prefix + route.path)


def describe(routes: Iterable[BaseRoute]) -> Schema:
    paths: dict[str, dict[str, Schema]] = {}
    for method, path, endpoint in operations(routes):
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Chat App API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": _security_schemes(),
            "schemas": ERRORS,
        },
    }


def _operation(method: str, path: str, endpoint: Endpoint) -> Schema:
    doc = (endpoint.handler.__doc__ or "").strip()
    query = QUERIES.get((method, path), {})
    described: Schema = {
        "summary": doc.splitlines()[0] if doc else f"{method} {path}",
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": _text()} for name in endpoint.path_params
        ]
        + [
            {"name": name, "in": "query", "required": required, "schema": schema}
            for name, (schema, required) in query.items()
        ],
        "responses": _responses(endpoint),
        "security": {
            Need.required: [{endpoint.credentials.scheme: []}],
            Need.optional: [{}, {endpoint.credentials.scheme: []}],
            Need.absent: [],
        }[endpoint.user],
    }
    if len(doc.splitlines()) > 1:
        described["description"] = " ".join(doc.split())
    content = BODIES.get((method, path))
    if content is None and endpoint.body is not Need.absent:
        content = {"application/json": {"type": "object"}}
    if content is not None:
        described["requestBody"] = {
            "required": endpoint.body is not Need.optional,
            "content": {media: {"schema": schema} for media, schema in content.items()},
        }
    return described


def _responses(endpoint: Endpoint) -> Schema:
    returns_nothing = typing.get_type_hints(endpoint.handler).get("return") is type(None)
    success = 204 if returns_nothing and endpoint.then is None else endpoint.status_code
    shape = endpoint.errors.schema if endpoint.errors else "Error"
    error = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{shape}"}}}}
    responses: Schema = {str(success): {"description": "Done."}}
    refusals = {"400": "The input was refused.", "403": "Not allowed.", "404": "No such thing."}
    if endpoint.user is Need.required:
        refusals["401"] = UNAUTHENTICATED[endpoint.credentials.scheme]
    if endpoint.body is not Need.absent:
        refusals |= {"413": "The body is too large.", "415": "The body is not JSON."}
    for status, sentence in refusals.items():
        responses[status] = {"description": sentence, **error}
    return responses


@router.get("/api/openapi.json")
async def openapi(request: Request) -> Schema:
    """This description."""
    return describe(request.app.routes)


@router.get("/api/docs")
async def readable_description(request: Request) -> Response:
    """This description as a page to read."""
    return HTMLResponse(api_page.page(describe(request.app.routes)))
