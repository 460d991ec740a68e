"""The HTTP API, built fresh by a factory (a module-level Starlette breaks a second app start)."""

from starlette.applications import Starlette
from starlette.middleware import Middleware

from chat_app.api import (
    admin,
    auth,
    chats,
    exports,
    health,
    imports,
    keys,
    media,
    metrics,
    models,
    oidc,
    openai_compat,
    openapi,
    page_address,
    search,
    share,
    tokens,
)
from chat_app.api.common import domain_error_handler
from chat_app.api.origins import CrossSiteWritesRefused
from chat_app.api.page_policy import PagePolicy
from chat_app.api.request_ids import RequestIds
from chat_app.services import runtime
from chat_app.services.errors import DomainError


def make_api() -> Starlette:
    """Mounted in the Reflex app (whose lifespan runs the runtime), or served on its own (tests).

    Reflex mounts its own app (the pages, the event websocket) inside this one, so the middleware
    here sees every request: cross-site writes are refused and every page gets its policy.
    """
    return Starlette(
        routes=[
            *auth.router.routes(),
            *oidc.routes(),
            *chats.router.routes(),
            *exports.router.routes(),
            *imports.router.routes(),
            *models.router.routes(),
            *keys.router.routes(),
            *tokens.router.routes(),
            *media.router.routes(),
            *share.router.routes(),
            *search.router.routes(),
            *admin.router.routes(),
            *openai_compat.router.routes(),
            *openapi.router.routes(),
            *health.routes,
            *metrics.routes,
            *page_address.routes,
        ],
        middleware=[Middleware(RequestIds), Middleware(CrossSiteWritesRefused), Middleware(PagePolicy)],
        exception_handlers={DomainError: domain_error_handler},
        lifespan=lambda _app: runtime.lifespan(),
    )
