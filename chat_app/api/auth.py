"""Sign-in, registration and sign-out: HTML form posts (303) or JSON, one cookie session."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from chat_app.api.common import (
    current_user,
    error_response,
    in_thread,
    json_object,
    require_user,
    safe_next,
    same_origin,
    session_token,
)
from chat_app.db import session_scope
from chat_app.services import accounts, mailer, verification
from chat_app.services.errors import DomainError
from chat_app.settings import get_settings


def set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        settings.cookie_name,
        token,
        max_age=int(settings.session_days * 86400),
        httponly=True,  # never readable by JavaScript
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(get_settings().cookie_name, path="/", httponly=True, samesite="lax")


async def _read_form(request: Request) -> tuple[dict[str, str], bool]:
    """The posted fields and whether the client wants JSON back."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await json_object(request)
        return {k: str(v) for k, v in body.items() if isinstance(v, (str, int, float))}, True
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}, False


def _back_to_form(page: str, exc: DomainError, fields: dict[str, str]) -> Response:
    query = {"error": exc.code, "next": safe_next(fields.get("next"))}
    if fields.get("email"):
        query["email"] = fields["email"][:320]
    retry = getattr(exc, "retry_after", None)
    if retry:
        query["wait"] = str(retry)
    return RedirectResponse(f"{page}?{urlencode(query)}", status_code=303)


def _password_route(page: str, action):
    async def endpoint(request: Request) -> Response:
        if not same_origin(request):
            return JSONResponse({"error": "Cross-site sign-in is not allowed.", "code": "origin"}, 403)
        try:
            fields, wants_json = await _read_form(request)
        except DomainError as exc:
            return error_response(exc)
        email, password = fields.get("email", ""), fields.get("password", "")
        try:
            token, confirm = await in_thread(_sign_in_with, action, email, password)
        except DomainError as exc:
            return error_response(exc) if wants_json else _back_to_form(page, exc, fields)
        if confirm is not None and action is accounts.register:
            await in_thread(verification.send, *confirm)
        response: Response = (
            JSONResponse({"ok": True})
            if wants_json
            else RedirectResponse(safe_next(fields.get("next")), status_code=303)
        )
        set_session_cookie(response, token)
        return response

    return endpoint


def _sign_in_with(action, email: str, password: str):
    """The new session's token, and what a confirmation email needs when the address is unproven."""
    with session_scope() as session:
        user = action(email, password, session=session)
        token = accounts.create_session(user, session=session, days=get_settings().session_days)
        confirm = None
        if not user.email_verified and mailer.enabled():
            confirm = (user.email, verification.link_for(user))
        return token, confirm


async def logout(request: Request) -> Response:
    if not same_origin(request):
        return JSONResponse({"error": "Cross-site sign-out is not allowed.", "code": "origin"}, 403)
    token = session_token(request)

    def revoke() -> None:
        with session_scope() as session:
            accounts.revoke_session(token, session=session)

    await in_thread(revoke)
    wants_json = request.headers.get("accept", "").startswith("application/json")
    response: Response = JSONResponse({"ok": True}) if wants_json else RedirectResponse("/login", 303)
    clear_session_cookie(response)
    return response


async def me(request: Request) -> Response:
    def load() -> dict:
        with session_scope() as session:
            user = require_user(request, session=session)
            return {"id": str(user.id), "email": user.email, "email_verified": user.email_verified}

    return JSONResponse(await in_thread(load))


async def verify(request: Request) -> Response:
    """Open the link from the confirmation email: signed in as its account, the address is confirmed."""
    token = request.path_params["token"]

    def work():
        with session_scope() as session:
            user = current_user(request, session=session)
            if user is None:
                return None
            verification.confirm(user, token, session=session)
            return True

    try:
        done = await in_thread(work)
    except DomainError as exc:
        return RedirectResponse(f"/settings?{urlencode({'verify_error': exc.code})}", status_code=303)
    if done is None:
        return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", status_code=303)
    return RedirectResponse("/settings?verified=1", status_code=303)


async def resend(request: Request) -> Response:
    def work():
        with session_scope() as session:
            user = require_user(request, session=session)
            if user.email_verified or not mailer.enabled():
                return None
            return user.email, verification.link_for(user)

    confirm = await in_thread(work)
    sent = confirm is not None and await in_thread(verification.send, *confirm)
    return JSONResponse({"sent": bool(sent)})


def routes() -> list[Route]:
    return [
        Route("/api/auth/login", _password_route("/login", accounts.authenticate), methods=["POST"]),
        Route("/api/auth/register", _password_route("/register", accounts.register), methods=["POST"]),
        Route("/api/auth/logout", logout, methods=["POST"]),
        Route("/api/me", me, methods=["GET"]),
        Route("/api/auth/verify/{token}", verify, methods=["GET"]),
        Route("/api/auth/verify", resend, methods=["POST"]),
    ]
