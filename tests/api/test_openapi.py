"""The API's description (GET /api/openapi.json), and a fuzz run of every operation it documents:
whatever a client sends, signed in or not, well-formed or not, the answer is never a server error.

The run takes its time, so it runs on one database: PostgreSQL when the suite has one (its types
are the stricter: a malformed id fails there first), else SQLite.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from chat_app.api.app import make_api
from chat_app.api.openapi import BODIES, QUERIES, operations
from chat_app.services.keys import KEYED_PROVIDERS
from tests.support.databases import postgres_schema
from tests.support.factories import api_token, api_user

EXAMPLES = 12  # per operation and mode: the whole run stays under a minute
SKIPPED = {("POST", "/api/auth/logout")}  # would sign the fuzzing client out half-way


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    if os.environ.get("TEST_DATABASE_URL"):
        with postgres_schema(os.environ["TEST_DATABASE_URL"]) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'test.db'}"


def _served(doc: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, methods in doc["paths"].items() for method in methods}


def test_the_description_lists_every_endpoint_and_is_valid(api):
    doc = api.get("/api/openapi.json").json()
    schemathesis.openapi.from_dict(doc).validate()
    every = {(method, path) for method, path, _ in operations(make_api().routes)}
    assert _served(doc) == every
    assert {("POST", "/api/chats"), ("GET", "/api/auth/oidc/{name}/callback")} <= every
    assert set(BODIES) | set(QUERIES) <= every  # no description of a route that is gone
    post_message = doc["paths"]["/api/chats/{chat_id}/messages"]["post"]
    assert post_message["security"] == [{"session": []}]
    assert post_message["parameters"] == [
        {"name": "chat_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    body = post_message["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["content"] and set(body["properties"]) == {
        "content",
        "attachments",
        "model_id",
    }
    assert doc["paths"]["/api/chats/{chat_id}"]["get"]["security"] == [{}, {"session": []}]
    # OpenAI's protocol takes a personal API token, and refuses in OpenAI's shape.
    completions = doc["paths"]["/v1/chat/completions"]["post"]
    assert completions["security"] == [{"token": []}]
    assert doc["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert completions["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OpenAIError"
    }
    asked = completions["requestBody"]["content"]["application/json"]["schema"]
    assert asked["required"] == ["model", "messages"] and {"stream", "save"} <= set(asked["properties"])
    assert doc["paths"]["/v1/models"]["get"]["security"] == [{"token": []}]
    assert doc["paths"]["/api/tokens"]["post"]["security"] == [{"session": []}]


def _aimed(doc: dict, known: dict[str, list[str]]) -> dict:
    """The description with each parameter or body field named in `known` also taking those real
    values (a real chat), so the fuzzing reaches past "not found" as well."""
    doc = copy.deepcopy(doc)

    def widen(schema: dict[str, Any], name: str) -> dict[str, Any]:
        return {"anyOf": [{"enum": known[name]}, schema]} if name in known else schema

    for methods in doc["paths"].values():
        for operation in methods.values():
            for parameter in operation["parameters"]:
                parameter["schema"] = widen(parameter["schema"], parameter["name"])
            for media in operation.get("requestBody", {}).get("content", {}).values():
                properties = media["schema"].get("properties", {})
                for name in properties:
                    properties[name] = widen(properties[name], name)
    return doc


def _as_text(value: Any) -> bytes | str:
    return value if isinstance(value, (bytes, str)) else json.dumps(value)


def _httpx_arguments(case_arguments: dict[str, Any]) -> dict[str, Any]:
    """What schemathesis would hand `requests`, for the test's httpx client (which keeps the cookie
    and the API token): a raw body is `content`, and a multipart field's value is text (as
    `requests` would send it). Credentials schemathesis made up are left out, as the cookie is."""
    arguments = {k: v for k, v in case_arguments.items() if k not in ("cookies", "auth")}
    if arguments.get("headers"):
        arguments["headers"] = {k: v for k, v in arguments["headers"].items() if k.lower() != "authorization"}
    if isinstance(arguments.get("data"), (bytes, str)):
        arguments["content"] = arguments.pop("data")
    if arguments.get("files"):
        arguments["files"] = [
            (name, (filename, _as_text(value), *rest))
            for name, (filename, value, *rest) in arguments["files"]
        ]
    return arguments


def _modes(operation: schemathesis.APIOperation) -> list[GenerationMode]:
    """Malformed input where there is something to get wrong (a body, a query): a path parameter is
    any string, so it has no malformed kind."""
    definition = operation.definition.raw
    malformable = "requestBody" in definition or any(
        p["in"] == "query" for p in definition.get("parameters", [])
    )
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if malformable else [GenerationMode.POSITIVE]


def fuzz(client: TestClient, doc: dict, examples: int = EXAMPLES) -> list[str]:
    """Every documented operation, with well-formed and malformed input; each server error found."""
    schema = schemathesis.openapi.from_dict(doc)
    found: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        for mode in _modes(operation):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,  # the same requests every run: a failure here is reproducible
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def request_once(case: schemathesis.Case) -> None:
                arguments = case.as_transport_kwargs(base_url=str(client.base_url))
                response = client.request(**_httpx_arguments(arguments))
                response.request.read()  # the report quotes the request
                case.validate_response(response, checks=[not_a_server_error])

            try:
                request_once()
            except (FailureGroup, Exception) as failure:  # the check's, or the app's own exception
                found.append(f"{operation.label} ({mode.value}): {failure}")
    return found


def test_fuzzing_every_documented_operation_finds_no_server_error(app_settings, fake_env):
    # A 500 is answered as a server would (not raised here), so each one found says how to replay it.
    with TestClient(make_api(), base_url="http://testserver", raise_server_exceptions=False) as client:
        api_user(client)  # signed in with a real session cookie
        # and holding a personal API token, for OpenAI's protocol (/v1)
        client.headers["Authorization"] = f"Bearer {api_token(client)}"
        chat_id = client.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
        doc = client.get("/api/openapi.json").json()
        known = {"chat_id": [chat_id], "provider": list(KEYED_PROVIDERS), "model": ["openai/gpt-4o"]}
        assert fuzz(client, _aimed(doc, known)) == []


def test_the_fuzzing_would_notice_a_server_error():
    """The run above can fail: an operation that answers 500 is reported, with its request."""

    async def broken(_request: Request) -> Response:
        raise RuntimeError("a bug")

    app = Starlette(routes=[Route("/api/broken", broken, methods=["POST"])])
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "broken", "version": "1"},
        "paths": {"/api/broken": {"post": {"responses": {"200": {"description": "Done."}}}}},
    }
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        found = fuzz(client, doc, examples=2)
    assert len(found) == 1 and found[0].startswith("POST /api/broken (positive)")
    assert "Server error" in found[0] and "http://testserver/api/broken" in found[0]  # how to replay it


def test_the_readable_page_shows_every_route_with_its_parameters_and_body(api):
    doc = api.get("/api/openapi.json").json()
    answer = api.get("/api/docs")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    page = answer.text
    operations = [(m, p) for p, methods in doc["paths"].items() for m in methods]
    assert page.count("<h2 id=") == len(operations)
    for method, path in operations:
        assert f"<span class='method {method}'>{method.upper()}</span>{path}</h2>" in page.replace(
            "&#x27;", "'"
        )
    search = page[page.index("</span>/api/search</h2>") :]
    assert "<code>q</code>" in search and "<code>limit</code>" in search
    messages = page[page.index("</span>/api/chats/{chat_id}/messages</h2>") :]
    assert "&quot;content&quot;: &quot;string&quot;" in messages  # the body's fields, escaped
    assert "<script" not in page
