"""`GET /api/page-address?origin=…`: whether a page opened at that origin may open its websocket
(ALLOWED_ORIGINS, PUBLIC_URL by default). A page at any other address cannot reach the server, so
assets/address.js asks this first and tells the person which address to use and which setting
to change, instead of leaving them with a socket error."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chat_app.settings import get_settings


async def page_address(request: Request) -> JSONResponse:
    settings = get_settings()
    origin = request.query_params.get("origin", "")
    return JSONResponse(
        {"allowed": origin in settings.allowed_origins, "public_url": settings.public_url},
        headers={"Cache-Control": "no-store"},
    )


routes = [Route("/api/page-address", page_address, methods=["GET"])]
