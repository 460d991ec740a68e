"""`GET /healthz` (the process answers) and `GET /readyz` (it can serve: services/readiness), for
an orchestrator's probes and a load balancer's health checks. Neither needs a session."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chat_app.db import get_engine
from chat_app.services import readiness


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive"})


async def readyz(_request: Request) -> JSONResponse:
    """200 when every part is ready; 503 naming the parts that are not, and why."""
    state = await run_in_threadpool(readiness.check, get_engine())
    body = {
        "status": "ready" if state.ready else "not ready",
        "checks": state.checks,
        "failing": state.failing,
    }
    return JSONResponse(body, status_code=200 if state.ready else 503, headers={"Cache-Control": "no-store"})


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/readyz", readyz, methods=["GET", "HEAD"]),
]
