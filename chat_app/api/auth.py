"""Sign-in, registration and sign-out: HTML form posts (303) or JSON, one cookie session; a person's
own sessions and password."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from urllib.parse import urlencode

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from chat_app.api.bodies import JSON, form_fields, json_object, media_type
from chat_app.api.clients import client_address, user_agent
from chat_app.api.common import error_response, in_thread, session_token
from chat_app.api.endpoints import JsonObject, Router, in_session
from chat_app.models import User
from chat_app.services import accounts, verification
from chat_app.services.errors import DomainError
from chat_app.services.redirects import safe_next
from chat_app.settings import get_settings

router = Router()

# accounts.authenticate or accounts.register: (email, password, *, session, client)
SignIn = Callable[..., User]


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
    settings = get_settings()
    response.delete_cookie(
        settings.cookie_name, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax"
    )


async def _read_form(request: Request) -> tuple[dict[str, str], bool]:
    """The posted fields and whether the client wants JSON back."""
    if media_type(request) == JSON:
        body = await json_object(request)
        return {k: str(v) for k, v in body.items() if isinstance(v, (str, int, float))}, True
    return await form_fields(request), False


def _back_to_form(page: str, exc: DomainError, fields: dict[str, str]) -> Response:
    query = {"error": exc.code, "next": safe_next(fields.get("next"))}
    if fields.get("email"):
        query["email"] = fields["email"][:320]
    retry = getattr(exc, "retry_after", None)
    if retry:
        query["wait"] = str(retry)
    return RedirectResponse(f"{page}?{urlencode(query)}", status_code=303)


def _password_route(page: str, action: SignIn) -> Callable[[Request], Awaitable[Response]]:
    """A sign-in form's endpoint (refused cross-site by api/origins.py), answered by a redirect
    (or JSON when asked)."""

    async def sign_in(request: Request) -> Response:
        try:
            fields, wants_json = await _read_form(request)
        except DomainError as exc:
            return error_response(exc)
        email, password = fields.get("email", ""), fields.get("password", "")
        sign_in_with = partial(
            _sign_in_with, action, email, password, client_address(request), user_agent(request)
        )
        try:
            token, confirm = await in_session(sign_in_with)
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

    return sign_in


def _sign_in_with(
    action: SignIn, email: str, password: str, client: str, browser: str, session: Session
) -> tuple[str, verification.Confirmation | None]:
    """The new session's token, and what a confirmation email needs when the address is unproven."""
    user = action(email, password, session=session, client=client)
    token = accounts.create_session(
        user, session=session, days=get_settings().session_days, user_agent=browser, client=client
    )
    return token, verification.confirmation_to_send(user)


router.post("/api/auth/login")(_password_route("/login", accounts.authenticate))
router.post("/api/auth/register")(_password_route("/register", accounts.register))


@router.post("/api/auth/logout")
async def logout(request: Request) -> Response:
    token = session_token(request)
    await in_session(lambda session: accounts.revoke_session(token, session=session))
    wants_json = request.headers.get("accept", "").startswith("application/json")
    response: Response = JSONResponse({"ok": True}) if wants_json else RedirectResponse("/login", 303)
    clear_session_cookie(response)
    return response


@router.get("/api/me")
def me(user: User) -> dict:
    return {"id": str(user.id), "email": user.email, "email_verified": user.email_verified}


@router.get("/api/auth/verify/{token}")
def verify(user: User | None, session: Session, token: str, request: Request) -> Response:
    """Open the link from the confirmation email: signed in as its account, the address is confirmed."""
    if user is None:
        return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", status_code=303)
    try:
        verification.confirm(user, token, session=session)
    except DomainError as exc:  # raised before anything changed
        return RedirectResponse(f"/settings?{urlencode({'verify_error': exc.code})}", status_code=303)
    return RedirectResponse("/settings?verified=1", status_code=303)


async def _send_confirmation(confirm: verification.Confirmation | None) -> dict:
    """After the commit, off the event loop: a slow mail server holds nothing."""
    sent = confirm is not None and await in_thread(verification.send, *confirm)
    return {"sent": bool(sent)}


@router.post("/api/auth/verify", then=_send_confirmation)
def resend(user: User, request: Request) -> verification.Confirmation | None:
    """What a new confirmation email needs, unless the address is confirmed or mail is off."""
    return verification.confirmation_to_resend(user, client=client_address(request))


@router.get("/api/auth/sessions")
def list_sessions(user: User, session: Session, request: Request) -> dict:
    """The person's sessions that may still be used; `is_current` marks the one asking."""
    return {"sessions": accounts.sessions_of(user, session=session, current_token=session_token(request))}


@router.delete("/api/auth/sessions/{session_id}")
def end_session(user: User, session: Session, session_id: str) -> None:
    accounts.end_session(user, session_id, session=session)


@router.post("/api/auth/sessions/end-others")
def end_other_sessions(user: User, session: Session, request: Request) -> dict:
    """Sign out everywhere but here: every other session ends at once."""
    return {"ended": accounts.end_other_sessions(user, session_token(request), session=session)}


@router.post("/api/auth/password")
def change_password(user: User, session: Session, body: JsonObject, request: Request) -> dict:
    """A new password, the current one required; every other session ends."""
    ended = accounts.change_password(
        user,
        str(body.get("current_password", "")),
        str(body.get("new_password", "")),
        session=session,
        keep_token=session_token(request),
        client=client_address(request),
    )
    return {"ok": True, "ended_sessions": ended}
