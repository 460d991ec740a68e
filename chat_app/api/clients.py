"""Who is asking, as far as the network says: a request's client address and browser."""

from __future__ import annotations

from starlette.requests import Request

from chat_app.services import client_addresses


def client_address(request: Request) -> str:
    """The address limits per client count against (see services/client_addresses for the rule)."""
    peer = request.client.host if request.client else None
    return client_addresses.client_address(peer, request.headers.get("x-forwarded-for"))


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")
