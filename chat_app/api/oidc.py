"""Sign in with Google or any OpenID Connect provider (Authlib), matched by verified email."""

from __future__ import annotations

import logging
from functools import partial
from urllib.parse import urlencode

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc.errors import JoseError  # what Authlib 1.9 raises for a bad ID token
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount

from chat_app.api.auth import set_session_cookie
from chat_app.api.clients import client_address, user_agent
from chat_app.api.endpoints import Router, in_session
from chat_app.services import accounts
from chat_app.services.errors import DomainError
from chat_app.services.redirects import safe_next
from chat_app.settings import OidcProvider, get_settings

log = logging.getLogger(__name__)

# What a provider that is down, slow or misbehaving makes Authlib raise: the person gets
# "try again" on the sign-in page, never a bare 500.
_PROVIDER_ERRORS = (OAuthError, JoseError, httpx.HTTPError, ValueError, KeyError)


def _failed(code: str, next_path: str = "/") -> Response:
    return RedirectResponse(f"/login?{urlencode({'error': code, 'next': next_path})}", status_code=303)


def make_oidc_app() -> Starlette:
    settings = get_settings()
    oauth = OAuth()
    providers: dict[str, OidcProvider] = {}
    for provider in settings.oidc_providers:
        providers[provider.name] = provider
        oauth.register(
            name=provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={"scope": "openid email profile"},
        )

    router = Router()

    @router.get("/{name}/login")
    async def login(request: Request, name: str) -> Response:
        if name not in providers:
            return _failed("oidc_unknown")
        request.session["next"] = safe_next(request.query_params.get("next"))
        redirect_uri = f"{settings.public_url}/api/auth/oidc/{name}/callback"
        try:
            return await oauth.create_client(name).authorize_redirect(request, redirect_uri)
        except _PROVIDER_ERRORS as exc:
            log.warning("OIDC sign-in with %s could not start: %r", name, exc)
            return _failed("oidc", request.session.pop("next", "/"))

    @router.get("/{name}/callback")
    async def callback(request: Request, name: str) -> Response:
        next_path = safe_next(request.session.pop("next", "/"))
        if name not in providers:
            return _failed("oidc_unknown", next_path)
        try:
            token = await oauth.create_client(name).authorize_access_token(request)
        except _PROVIDER_ERRORS as exc:
            log.warning("OIDC sign-in with %s failed: %r", name, exc)
            return _failed("oidc", next_path)
        # Claims of the ID token, whose signature, issuer, audience, expiry and nonce Authlib checked.
        claims = token.get("userinfo") or {}
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        verified = claims.get("email_verified") in (True, "true")
        try:
            session_token = await in_session(
                partial(_sign_in, email, verified, client_address(request), user_agent(request))
            )
        except DomainError as exc:
            return _failed(exc.code, next_path)
        response = RedirectResponse(next_path, status_code=303)
        set_session_cookie(response, session_token)
        return response

    return Starlette(
        routes=router.routes(),
        # Authlib keeps the state and nonce of a sign-in in flight in this short-lived cookie.
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie="oidc_flow",
                max_age=600,
                same_site="lax",
                https_only=settings.cookie_secure,
            )
        ],
    )


def _sign_in(email: str | None, verified: bool, client: str, browser: str, session: Session) -> str:
    user = accounts.user_for_oidc(email, verified, session=session)
    return accounts.create_session(
        user, session=session, days=get_settings().session_days, user_agent=browser, client=client
    )


def routes() -> list[Mount]:
    return [Mount("/api/auth/oidc", app=make_oidc_app())]
