"""What every route shares: the session cookie, JSON bodies and errors, the same-origin check."""

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
}


def session_token(request: Request) -> str | None:
    return request.cookies.get(get_settings().cookie_name)


def error_response(exc: DomainError) -> JSONResponse:
    status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 400)
    retry_after = exc.retry_after if isinstance(exc, (TooManyAttempts, LimitReached)) else None
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"error": str(exc), "code": exc.code}, status_code=status, headers=headers)


async def domain_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc)


async def json_object(request: Request) -> dict:
    """The request body as a JSON object, or Invalid with a sentence saying what is wrong."""
    try:
        body = await request.json()
    except ValueError:
        raise Invalid("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Invalid("The request body must be a JSON object.")
    return body


def same_origin(request: Request) -> bool:
    """Refuse cross-site form posts (login CSRF); browsers send Origin on POST."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    allowed = set(get_settings().allowed_origins) | {f"{request.url.scheme}://{request.url.netloc}"}
    return origin in allowed


async def in_thread(fn, *args, **kwargs):
    """Blocking work (mail, file checks) runs off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)
