"""The one way routes are written: the user found first (a signed-out client is refused before its
body is read), the body handed in after, one transaction, one endpoint per method."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.testclient import TestClient

from chat_app.api.app import make_api
from chat_app.api.common import domain_error_handler
from chat_app.api.endpoints import API_TOKEN, ErrorShape, JsonObject, Router, in_session
from chat_app.db import get_engine, session_scope
from chat_app.models import User
from chat_app.services import accounts, api_tokens
from chat_app.services.errors import DomainError, Invalid
from tests.support.factories import api_user

# ---- the real API ------------------------------------------------------------------------------

BODY_ROUTES = [
    ("POST", "/api/chats"),
    ("PATCH", f"/api/chats/{uuid.uuid4()}"),
    ("POST", f"/api/chats/{uuid.uuid4()}/messages"),
    ("PUT", "/api/keys/openai"),
    ("POST", "/api/share"),
    ("PATCH", "/api/share"),
    ("POST", "/api/share/rotate"),
]


def test_signed_out_bodies_are_refused_unparsed(api):
    """401, not 400: the invalid JSON was never parsed, however large."""
    for method, path in BODY_ROUTES:
        for body in (b"{not json", b"[" * 2_000_000):
            response = api.request(method, path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 401, (method, path)
            assert response.json() == {"error": "Sign in to continue.", "code": "unauthenticated"}


def test_signed_in_the_same_bodies_are_read_and_refused(api):
    api_user(api)
    for method, path in BODY_ROUTES:
        response = api.request(
            method, path, content=b"{not json", headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, (method, path)
        assert response.json()["error"] == "The request body is not valid JSON."


async def test_a_signed_out_request_is_answered_without_receiving_its_body(app_settings):
    """At the ASGI level: the server is never asked for a byte of the body."""
    received: list[dict] = []
    sent: list[dict] = []

    async def receive() -> dict:
        message = {"type": "http.request", "body": b'{"model_id": "openai/gpt-4o"}', "more_body": False}
        received.append(message)
        return message

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "path": "/api/chats",
        "raw_path": b"/api/chats",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
    }
    await make_api()(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 401
    assert received == []


def test_other_methods_are_405_with_every_allowed_method(api):
    for method, path, allowed in [
        ("PUT", "/api/chats", {"GET", "HEAD", "POST"}),
        ("POST", f"/api/chats/{uuid.uuid4()}", {"GET", "HEAD", "PATCH", "DELETE"}),
        ("GET", "/api/keys/openai", {"PUT", "DELETE"}),
        ("PUT", "/api/share", {"GET", "HEAD", "POST", "PATCH", "DELETE"}),
        ("DELETE", "/api/me", {"GET", "HEAD"}),
        ("GET", "/api/upload", {"POST"}),
    ]:
        response = api.request(method, path)
        assert response.status_code == 405, (method, path)
        assert set(response.headers["allow"].split(", ")) == allowed


# ---- the mechanism, on routes of its own -------------------------------------------------------

router = Router()
after_commit: list[bool] = []


@router.get("/whoami")
def whoami(user: User | None) -> dict:
    return {"email": user.email if user else None}


@router.get("/mine")
def mine(user: User, session: Session) -> dict:
    return {"email": user.email, "attached": user in session}


@router.post("/echo", status_code=201)
def echo(user: User, session: Session, body: JsonObject) -> dict:
    return {"body": body, "by": user.email, "attached": user in session}


@router.get("/maybe")
def maybe(user: User, body: JsonObject | None, query: QueryParams) -> dict:
    return {"body": body, "q": query.get("q")}


@router.delete("/things/{thing_id}")
def delete_thing(user: User, thing_id: str) -> None:
    return None


@router.get("/things/{thing_id}")
def read_thing(thing_id: str) -> Response:
    return PlainTextResponse(f"thing {thing_id}")


def _exists(email: str, session: Session) -> bool:
    return session.exec(select(User).where(User.email == email)).first() is not None


async def _check_committed(email: str) -> dict:
    after_commit.append(await in_session(lambda session: _exists(email, session)))
    return {"email": email}


@router.post("/accounts", then=_check_committed)
def create_account(session: Session, body: JsonObject) -> str:
    return accounts.register(body["email"], "long enough", session=session).email


@router.post("/accounts/failing")
def create_account_then_fail(session: Session, body: JsonObject) -> None:
    accounts.register(body["email"], "long enough", session=session)
    session.flush()
    raise Invalid("Refused after writing.")


@router.post("/stream")
async def stream(user: User, request: Request) -> dict:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"by": user.email, "bytes": size}


@pytest.fixture
def signed_in(app_settings) -> Iterator[tuple[TestClient, str]]:
    """A client of the routes above, with the session cookie of a fresh account."""
    email = f"router-{uuid.uuid4().hex[:8]}@example.com"
    with session_scope() as session:
        user = accounts.register(email, "long enough", session=session)
        token = accounts.create_session(user, session=session, days=1)
    app = Starlette(routes=router.routes(), exception_handlers={DomainError: domain_error_handler})
    with TestClient(app, base_url="http://testserver") as client:
        client.cookies.set(app_settings.cookie_name, token)
        yield client, email


def test_a_required_user_is_refused_and_an_optional_one_is_none(signed_in):
    client, email = signed_in
    assert client.get("/whoami").json() == {"email": email}
    assert client.get("/mine").json() == {"email": email, "attached": True}
    client.cookies.clear()
    assert client.get("/whoami").json() == {"email": None}
    refused = client.get("/mine")
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"


def test_the_body_comes_after_the_user_and_must_be_a_json_object(signed_in):
    client, email = signed_in
    echoed = client.post("/echo", json={"a": [1, 2]})
    assert echoed.status_code == 201
    assert echoed.json() == {"body": {"a": [1, 2]}, "by": email, "attached": True}
    for content, error in [
        (b"[1]", "must be a JSON object"),
        (b"{", "not valid JSON"),
        (b"", "not valid JSON"),
    ]:
        refused = client.post("/echo", content=content, headers={"content-type": "application/json"})
        assert refused.status_code == 400 and error in refused.json()["error"]
    client.cookies.clear()
    assert client.post("/echo", content=b"{", headers={"content-type": "application/json"}).status_code == 401


def test_an_optional_body_is_read_only_when_sent(signed_in):
    client, _ = signed_in
    assert client.get("/maybe", params={"q": "x"}).json() == {"body": None, "q": "x"}
    as_json = {"content-type": "application/json"}
    sent = client.request("GET", "/maybe", content=json.dumps({"chat_id": "c"}), headers=as_json)
    assert sent.json() == {"body": {"chat_id": "c"}, "q": None}
    assert client.request("GET", "/maybe", content=b"nope", headers=as_json).status_code == 400
    undeclared = client.request("GET", "/maybe", content=json.dumps({"chat_id": "c"}))
    assert undeclared.status_code == 415 and undeclared.json()["code"] == "content_type"


def test_results_become_answers(signed_in):
    client, _ = signed_in
    assert client.delete("/things/7").status_code == 204
    thing = client.get("/things/7")
    assert thing.status_code == 200 and thing.text == "thing 7"
    assert client.head("/things/7").status_code == 200  # HEAD is served by GET
    not_allowed = client.put("/things/7")
    assert not_allowed.status_code == 405
    assert set(not_allowed.headers["allow"].split(", ")) == {"GET", "HEAD", "DELETE"}


def test_then_runs_after_the_commit(signed_in):
    client, _ = signed_in
    after_commit.clear()
    email = f"then-{uuid.uuid4().hex[:8]}@example.com"
    answer = client.post("/accounts", json={"email": email})
    assert answer.status_code == 200 and answer.json() == {"email": email}
    assert after_commit == [True]  # seen from another transaction: committed already


def test_a_handler_that_raises_changes_nothing(signed_in):
    client, _ = signed_in
    email = f"rollback-{uuid.uuid4().hex[:8]}@example.com"
    refused = client.post("/accounts/failing", json={"email": email})
    assert refused.status_code == 400 and refused.json() == {
        "error": "Refused after writing.",
        "code": "invalid",
    }
    with get_engine().connect() as conn:
        assert conn.execute(sa.select(User.id).where(User.email == email)).first() is None


def test_an_async_handler_gets_the_user_before_it_reads_the_stream(signed_in):
    client, email = signed_in
    assert client.post("/stream", content=b"x" * 100_000).json() == {"by": email, "bytes": 100_000}
    client.cookies.clear()
    assert client.post("/stream", content=b"x" * 100_000).status_code == 401


def test_handlers_are_checked_when_registered():
    checks = Router()

    def unknown_parameter(user: User, chat_id: str) -> None: ...

    async def session_on_the_loop(session: Session) -> None: ...

    def unannotated_user(user) -> None: ...

    def wrongly_annotated_body(body: list) -> None: ...

    with pytest.raises(TypeError, match=r"\['chat_id'\]"):
        checks.get("/things/{thing_id}")(unknown_parameter)
    with pytest.raises(TypeError, match="in_session"):
        checks.get("/a")(session_on_the_loop)
    with pytest.raises(TypeError, match="`user`"):
        checks.get("/b")(unannotated_user)
    with pytest.raises(TypeError, match="`body`"):
        checks.post("/c")(wrongly_annotated_body)
    checks.get("/d")(whoami)
    with pytest.raises(ValueError, match="GET /d"):
        checks.get("/d")(mine)
    assert checks.get("/e")(whoami) is whoami  # the handler stays a plain function


def test_a_router_of_api_tokens_reads_no_cookie_and_answers_in_its_own_shape(signed_in):
    """`Router(credentials=API_TOKEN, errors=…)`: the user from `Authorization: Bearer`, refusals
    (before the handler and in it) shaped by the router, never by the app-wide handler."""
    client, email = signed_in
    tokens = Router(
        credentials=API_TOKEN, errors=ErrorShape("Plain", lambda exc: PlainTextResponse(str(exc), 418))
    )
    tokens.get("/whoami")(whoami)
    tokens.post("/echo")(echo)
    app = Starlette(routes=tokens.routes(), exception_handlers={DomainError: domain_error_handler})
    with session_scope() as session:
        person = accounts.find_user(email, session=session)
        assert person is not None
        token = api_tokens.create(person, "router test", session=session)["token"]
    with TestClient(app, base_url="http://testserver") as program:
        program.cookies.update(client.cookies)  # a session cookie is of no use here
        assert program.get("/whoami").json() == {"email": None}  # optional: nobody
        refused = program.post("/echo", json={"a": 1})
        assert refused.status_code == 418 and refused.text.startswith("Send a personal API token")
        bearer = {"Authorization": f"Bearer {token}"}
        assert program.get("/whoami", headers=bearer).json() == {"email": email}
        assert program.post("/echo", json={"a": 1}, headers=bearer).json()["body"] == {"a": 1}
        malformed = program.post(
            "/echo", content=b"{", headers={**bearer, "content-type": "application/json"}
        )
        assert (malformed.status_code, malformed.text) == (418, "The request body is not valid JSON.")
