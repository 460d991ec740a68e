"""How a route is written: a plain function of what it needs, handed in by parameter name (the way
FastAPI reads dependencies, on plain Starlette), one function per method and path.

    router = Router()

    @router.patch("/api/chats/{chat_id}")
    def update_chat(user: User, session: Session, chat_id: str, body: JsonObject) -> dict: ...

What a handler may ask for:
- `user: User`: the signed-in user. A signed-out request is refused (401) first, its body unread.
  `user: User | None`: the user, or None for a signed-out visitor (who may read public chats).
  A router made with `Router(credentials=API_TOKEN)` finds the user from a personal API token
  (`Authorization: Bearer …`) instead of the session cookie, which it never reads.
- `session: Session`: the one transaction the handler runs in, committed when it returns and
  rolled back when it raises. Only plain `def` handlers get one: they run off the event loop.
- `body: JsonObject`: the request body, which must be a JSON object, read once the user is known;
  sent as `application/json` (else 415) and no larger than MAX_BODY_KB (else 413, read no further).
  `body: JsonObject | None`: the same when the request carries a body, else None.
- `query: QueryParams`, `request: Request`, and every `{name}` of the route's path, as a string.

`async def` handlers (streamed uploads, sign-in forms) get the same user and body and open their
own transactions with `in_session`. What a handler returns is the answer: None is 204, a Response
is sent as it is, anything else is JSON with the route's status. `then` runs on the event loop
after the commit (start a reply, send mail), and what it returns is answered instead.
Domain errors become JSON errors in one place, the app's exception handler, or, for a router
made with `errors=`, in that router's shape (OpenAI's, for its protocol). Where a write may come
from is settled before any of this, for every request, by api/origins.py.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, TypeVar

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, compile_path

from chat_app import logs
from chat_app.api.bodies import json_object
from chat_app.api.common import bearer_token, session_token
from chat_app.db import session_scope
from chat_app.models import User
from chat_app.services import accounts, api_tokens
from chat_app.services.errors import DomainError, Invalid, Unauthenticated

T = TypeVar("T")
H = TypeVar("H", bound=Callable[..., Any])

JsonObject = dict[str, Any]
FollowUp = Callable[[Any], Awaitable[Any]]

# Parameter names the router fills in; any other parameter must be a `{name}` of the path.
_PROVIDED = frozenset({"user", "session", "body", "query", "request"})


async def in_session(work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction, off the event loop: committed when it returns."""

    def run() -> T:
        with session_scope() as session:
            return work(session)

    return await run_in_threadpool(run)


def whole_number(query: QueryParams, name: str, default: int) -> int:
    """A query parameter that must be a whole number (`default` when it is not given)."""
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid(f"Give `{name}` as a whole number.")
    return int(raw)


@dataclass(frozen=True)
class Credentials:
    """How a router's requests say who they are: the secret they present, and whose it is."""

    scheme: str  # its name in the API's description
    presented: Callable[[Request], str | None]
    # The user, or None (nobody); Unauthenticated when a secret presented is refused.
    user_for: Callable[[str | None, Session], User | None]
    missing: str  # what a route that needs a user says to nobody
    missing_code: str = "unauthenticated"


def _session_user(token: str | None, session: Session) -> User | None:
    return accounts.user_for_token(token, session=session)


def _token_user(token: str | None, session: Session) -> User | None:
    return api_tokens.authenticate(token, session=session) if token else None


SESSION_COOKIE = Credentials("session", session_token, _session_user, "Sign in to continue.")
API_TOKEN = Credentials("token", bearer_token, _token_user, api_tokens.MISSING, "invalid_api_key")


@dataclass(frozen=True)
class ErrorShape:
    """A router's own way of answering refusals (instead of `{"error", "code"}`): the answer, and
    the name of its schema in the API's description."""

    schema: str
    answer: Callable[[DomainError], Response]


class Need(Enum):
    """Whether a handler asks for the user (or the body), and whether it may go without."""

    absent = "absent"
    optional = "optional"
    required = "required"


@dataclass(frozen=True)
class Endpoint:
    """One handler, read once when it is registered: what to hand it and how to answer (and what
    the API's description says of it)."""

    handler: Callable[..., Any]
    status_code: int
    then: FollowUp | None
    user: Need
    body: Need
    names: frozenset[str]
    path_params: tuple[str, ...]
    runs_on_loop: bool
    credentials: Credentials = SESSION_COOKIE
    errors: ErrorShape | None = None

    @classmethod
    def of(
        cls,
        handler: Callable[..., Any],
        path: str,
        *,
        status_code: int,
        then: FollowUp | None,
        credentials: Credentials = SESSION_COOKIE,
        errors: ErrorShape | None = None,
    ) -> Endpoint:
        names = frozenset(inspect.signature(handler).parameters)
        hints = typing.get_type_hints(handler)
        in_path = frozenset(compile_path(path)[2])
        unknown = names - _PROVIDED - in_path
        if unknown:
            raise TypeError(f"{handler.__qualname__} asks for {sorted(unknown)}, which {path} does not have.")
        runs_on_loop = inspect.iscoroutinefunction(handler)
        if runs_on_loop and "session" in names:
            raise TypeError(
                f"{handler.__qualname__} runs on the event loop: open a transaction with in_session."
            )
        return cls(
            handler=handler,
            status_code=status_code,
            then=then,
            user=_need(handler, names, hints, "user", User, "User"),
            body=_need(handler, names, hints, "body", JsonObject, "JsonObject"),
            names=names,
            path_params=tuple(sorted(names & in_path)),
            runs_on_loop=runs_on_loop,
            credentials=credentials,
            errors=errors,
        )


def _need(
    handler: Callable[..., Any],
    names: frozenset[str],
    hints: dict[str, Any],
    name: str,
    kind: Any,
    label: str,
) -> Need:
    if name not in names:
        return Need.absent
    hint = hints.get(name)
    if hint == kind:
        return Need.required
    if hint == kind | None:
        return Need.optional
    raise TypeError(f"{handler.__qualname__}: annotate `{name}` as {label} or {label} | None.")


class Router:
    """A module's endpoints, one per method and path; `routes()` builds fresh Starlette routes.

    Each path is one Starlette route listing all its methods, so any other method is answered
    405 with the full `Allow` header. HEAD is served by the GET endpoint.
    """

    def __init__(
        self, *, credentials: Credentials = SESSION_COOKIE, errors: ErrorShape | None = None
    ) -> None:
        self._paths: dict[str, dict[str, Endpoint]] = {}
        self._credentials, self._errors = credentials, errors

    def get(self, path: str, *, status_code: int = 200, then: FollowUp | None = None) -> Callable[[H], H]:
        return self._endpoint("GET", path, status_code, then)

    def post(self, path: str, *, status_code: int = 200, then: FollowUp | None = None) -> Callable[[H], H]:
        return self._endpoint("POST", path, status_code, then)

    def put(self, path: str, *, status_code: int = 200, then: FollowUp | None = None) -> Callable[[H], H]:
        return self._endpoint("PUT", path, status_code, then)

    def patch(self, path: str, *, status_code: int = 200, then: FollowUp | None = None) -> Callable[[H], H]:
        return self._endpoint("PATCH", path, status_code, then)

    def delete(self, path: str, *, status_code: int = 200, then: FollowUp | None = None) -> Callable[[H], H]:
        return self._endpoint("DELETE", path, status_code, then)

    def _endpoint(self, method: str, path: str, status_code: int, then: FollowUp | None) -> Callable[[H], H]:
        def register(handler: H) -> H:
            methods = self._paths.setdefault(path, {})
            if method in methods:
                raise ValueError(
                    f"{method} {path} has an endpoint already: {methods[method].handler.__qualname__}."
                )
            methods[method] = Endpoint.of(
                handler,
                path,
                status_code=status_code,
                then=then,
                credentials=self._credentials,
                errors=self._errors,
            )
            return handler  # still a plain function, callable as it is

        return register

    def routes(self) -> list[Route]:
        return [EndpointRoute(path, methods) for path, methods in self._paths.items()]


class EndpointRoute(Route):
    """A path's Starlette route, which still knows its endpoints: the API describes itself from them."""

    def __init__(self, path: str, methods: dict[str, Endpoint]) -> None:
        super().__init__(path, _dispatch(methods), methods=list(methods))
        self.endpoints: dict[str, Endpoint] = dict(methods)


def _dispatch(methods: dict[str, Endpoint]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        # Starlette answered 405 already for a method not listed; HEAD is listed with GET.
        spec = methods.get(request.method) or methods["GET"]
        try:
            return await _serve(spec, request)
        except DomainError as exc:
            if spec.errors is None:
                raise  # the app's exception handler answers it
            return spec.errors.answer(exc)

    return endpoint


async def _serve(spec: Endpoint, request: Request) -> Response:
    given: dict[str, Any] = {name: request.path_params[name] for name in spec.path_params}
    if "query" in spec.names:
        given["query"] = request.query_params
    if "request" in spec.names:
        given["request"] = request
    token = spec.credentials.presented(request)
    body_follows = spec.body is Need.required or (spec.body is Need.optional and _carries_body(request))
    # Who asks is settled before a byte of the body is read (a signed-out client is refused unread),
    # in a short transaction of its own: none is held open while the client sends.
    if spec.user is not Need.absent and (body_follows or spec.runs_on_loop):
        given["user"] = await in_session(partial(_user_for, spec.credentials, token, spec.user))
    if spec.body is not Need.absent:
        given["body"] = await json_object(request) if body_follows else None
    if spec.runs_on_loop:
        result = await spec.handler(**given)
    else:
        result = await in_session(partial(_call, spec, token, given))
    if spec.then is not None:
        result = await spec.then(result)
    return _answer(result, spec.status_code)


def _call(spec: Endpoint, token: str | None, given: dict[str, Any], session: Session) -> Any:
    """The handler inside its transaction; the user is found in it too unless known already."""
    arguments = dict(given)
    if "user" in arguments:
        if arguments["user"] is not None:
            session.add(arguments["user"])  # found in the earlier transaction: now part of this one
    elif spec.user is not Need.absent:
        arguments["user"] = _user_for(spec.credentials, token, spec.user, session)
    if "session" in spec.names:
        arguments["session"] = session
    return spec.handler(**arguments)


def _user_for(credentials: Credentials, token: str | None, need: Need, session: Session) -> User | None:
    """The one place a request's user is found: from its session cookie, or its API token."""
    user = credentials.user_for(token, session)
    if user is None and need is Need.required:
        raise Unauthenticated(credentials.missing, code=credentials.missing_code)
    if user is not None:
        logs.note_user(str(user.id))
    return user


def _carries_body(request: Request) -> bool:
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > 0


def _answer(result: Any, status_code: int) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204)
    return JSONResponse(result, status_code=status_code)
