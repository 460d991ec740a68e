"""Who is signed in, read on the server from the session cookie of the websocket request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from chat_app.db import session_scope
from chat_app.models import User
from chat_app.services import accounts, registration
from chat_app.services.errors import DomainError, Unauthenticated
from chat_app.services.redirects import safe_next
from chat_app.settings import get_settings

T = TypeVar("T")

# What the sign-in and registration pages say for each error code the auth routes send back.
AUTH_ERRORS = {
    "credentials": "Wrong email or password.",
    "too_many_attempts": "Too many failed attempts. Wait a little, then try again.",
    "email": "That email address is not valid.",
    "password": "Use a password of at least 8 characters.",
    "exists": "An account with this email already exists. Sign in instead.",
    "oidc": "Signing in with your provider failed. Try again.",
    "oidc_unknown": "That sign-in provider is not configured.",
    "unverified": "Your identity provider did not confirm a verified email address.",
    "invalid": "That did not work. Check what you entered and try again.",
    "disabled": accounts.DISABLED,
    "registration_closed": registration.CLOSED,
}


@dataclass(frozen=True)
class Refused:
    """A service call that did not happen, and the effect the page shows instead: a sign-in
    redirect or a toast saying why."""

    effect: Any


class AuthState(rx.State):
    """Base of every state that needs the user; the token never leaves the server."""

    user_email: rx.Field[str] = rx.field("")
    auth_error: rx.Field[str] = rx.field("")
    form_email: rx.Field[str] = rx.field("")
    next_path: rx.Field[str] = rx.field("/")
    oidc_providers: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)

    def _session_token(self) -> str | None:
        raw = self.router.headers.cookie or ""
        try:
            jar = SimpleCookie(raw)
        except CookieError:
            return None
        morsel = jar.get(get_settings().cookie_name)
        return morsel.value if morsel else None

    async def _as_user(self, work: Callable[[User, Session], T]) -> T:
        """Run `work(user, session)` for the signed-in user in one transaction, off the event loop.

        Raises Unauthenticated when the cookie carries no live session.
        """
        token = self._session_token()

        def run() -> T:
            with session_scope() as session:
                user = accounts.user_for_token(token, session=session)
                if user is None:
                    raise Unauthenticated("Sign in to continue.")
                return work(user, session)

        return await asyncio.to_thread(run)

    async def _as_visitor(self, work: Callable[[User | None, Session], T]) -> T:
        """Like `_as_user`, but a signed-out visitor is `None` instead of an error (public chats)."""
        token = self._session_token()

        def run() -> T:
            with session_scope() as session:
                return work(accounts.user_for_token(token, session=session), session)

        return await asyncio.to_thread(run)

    async def _act(self, work: Callable[[User, Session], T]) -> T | Refused:
        """Run a service call for the signed-in user; on failure, what the page shows instead."""
        try:
            return await self._as_user(work)
        except Unauthenticated:
            return Refused(self._login_redirect())
        except DomainError as exc:
            return Refused(self._refusal(exc))

    def _refusal(self, exc: DomainError):
        """What the page does when a service refuses: say why. States with more to show override it."""
        return rx.toast.error(str(exc))

    def _login_redirect(self):
        path = self.router.url.path or "/"
        return rx.redirect(f"/login?next={quote(path)}")

    @rx.event
    def load_auth_page(self):
        params = self.router.url.query_parameters
        code = params.get("error", "")
        wait = params.get("wait", "")
        message = AUTH_ERRORS.get(code, AUTH_ERRORS["invalid"] if code else "")
        if code == "too_many_attempts" and wait.isdigit():
            message = f"Too many failed attempts. Try again in {wait} seconds."
        self.auth_error = message
        self.form_email = params.get("email", "")[:320]
        self.next_path = safe_next(params.get("next"))
        self.oidc_providers = [{"name": p.name, "label": p.label} for p in get_settings().oidc_providers]
