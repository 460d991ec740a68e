"""`GET /metrics`: this worker's counts in Prometheus's text format, for the holder of
METRICS_TOKEN only (they tell how busy the service is); without the setting there is no route."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from chat_app.api.common import bearer_token
from chat_app.services import metrics, replies, runtime
from chat_app.settings import get_settings


async def scrape(request: Request) -> Response:
    expected = get_settings().metrics_token
    if not expected:
        return PlainTextResponse("Not Found", status_code=404)
    if not hmac.compare_digest(bearer_token(request).encode(), expected.encode()):
        return PlainTextResponse(
            "Present METRICS_TOKEN as a bearer token.",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    metrics.LIVE_FOLLOWERS.set(runtime.current().channel.follower_count())
    metrics.REPLIES_RUNNING.set(replies.running_count())
    return Response(
        generate_latest(metrics.REGISTRY),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


routes = [Route("/metrics", scrape, methods=["GET"])]
