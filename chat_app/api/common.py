"""What every route shares: the session cookie, errors as JSON, blocking work off the loop."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat_app.services.errors import (
    DomainError,
    Forbidden,
    Invalid,
    LimitReached,
    NotFound,
    NotReady,
    TooManyAttempts,
    Unauthenticated,
)
from chat_app.settings import get_settings

_STATUS = {
    NotFound: 404,
    Forbidden: 403,
    Invalid: 400,
    Unauthenticated: 401,
    TooManyAttempts: 429,
    LimitReached: 429,
    NotReady: 503,
}


class RequestRefused(DomainError):
    """A request refused for its form, before any service saw it (its size, its type, the site it
    came from), with the HTTP status that says so. A DomainError, so every route answers it alike."""

    def __init__(self, message: str, *, status: int, code: str) -> None:
        super().__init__(message, code=code)
        self.status = status


def session_token(request: Request) -> str | None:
    return request.cookies.get(get_settings().cookie_name)


def bearer_token(request: Request) -> str:
    """The token of an `Authorization: Bearer …` header ("" without one)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def status_of(exc: DomainError) -> int:
    """The HTTP status that answers a domain error, whatever shape the answer takes."""
    if isinstance(exc, RequestRefused):
        return exc.status
    return next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 400)


def retry_headers(exc: DomainError) -> dict[str, str] | None:
    """`Retry-After` for a refusal that waiting ends."""
    retry_after = exc.retry_after if isinstance(exc, (TooManyAttempts, LimitReached, NotReady)) else None
    return {"Retry-After": str(retry_after)} if retry_after is not None else None


def error_response(exc: DomainError) -> JSONResponse:
    return JSONResponse(
        {"error": str(exc), "code": exc.code}, status_code=status_of(exc), headers=retry_headers(exc)
    )


async def domain_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc)


async def in_thread(fn, *args, **kwargs):
    """Blocking work (mail, file checks) runs off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)
