"""A wire-faithful fake of the Replicate HTTP API for tests and benchmarks.

The real ``replicate`` client (1.0.x) runs unchanged against it, pointed here with
``replicate.Client(api_token=..., base_url=fake.url)`` or the ``REPLICATE_BASE_URL`` /
``REPLICATE_API_TOKEN`` variables from ``FakeReplicate.env()``. It serves exactly the paths the
client calls:

* ``POST /v1/models/{owner}/{name}/predictions`` (official models) and ``POST /v1/predictions``
  (``version`` = 64-hex id, ``owner/name`` or ``owner/name:id``), both honouring ``Prefer: wait[=N]``
* ``GET /v1/predictions/{id}`` and ``POST /v1/predictions/{id}/cancel``
* ``GET /v1/models/{owner}/{name}`` and ``GET /v1/models/{owner}/{name}/versions/{id}``
* ``GET /files/{id}-{i}.png|.mp4``: the outputs, real PNG / H.264 bytes from ``media_samples``

A prediction's life is driven by the clock, not by polling: ``starting`` for ``start_delay``
seconds, ``processing`` for ``duration`` seconds with tqdm-style progress lines growing in
``logs``, then ``succeeded`` with its output. Directives in ``input["prompt"]`` script it, e.g.
``"a cat [[duration=0.5]] [[outputs=2]]"`` (see ``Script``). Errors use Replicate's
``application/problem+json`` bodies, so the client raises ``ReplicateError`` with the real status.

Run standalone: ``python -m tests.fakes.replicate --port 9998``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import media_samples
from tests.fakes.server import BackgroundServer

GOOD_TOKEN = "r8_fake_token"
"""The token ``env()`` hands out; any token except ``BAD_TOKEN`` is accepted."""

BAD_TOKEN = "r8_bad"
"""The one token the fake rejects (as it rejects a missing one) with Replicate's real 401."""

VIDEO_MODEL_HINTS = ("video", "zeroscope", "videocrafter", "animate")
"""A model whose ``owner/name`` contains one of these produces one ``.mp4`` instead of PNGs."""

UNKNOWN_MODEL = "unknown/model"
"""The ``model`` reported for a bare version id the fake was never told about."""

PROGRESS_STEPS = 50
TERMINAL = frozenset({"succeeded", "failed", "canceled"})

OOM_ERROR = (
    "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 39.39 GiB total capacity; "
    "36.12 GiB already allocated; 1.19 GiB free; 36.87 GiB reserved in total by PyTorch)"
)

# --------------------------------------------------------------------------- scripting

# The same ``[[name=value]]`` syntax as ``tests.fakes.providers.Script``.
_DIRECTIVE = re.compile(r"\[\[(\w+)(?:=([^\]]*))?\]\]")


@dataclass(frozen=True)
class Script:
    """What a prediction should do, parsed from ``[[name=value]]`` directives in its prompt.

    ``duration``/``start_delay`` (seconds) override the fake's defaults; ``fail`` ends "failed"
    with a CUDA out-of-memory error; ``hang`` stays "processing" until canceled; ``outputs`` is
    the number of images; ``create_error`` makes creation answer that HTTP status; ``html`` makes
    the output URLs serve an HTML page labelled ``image/png``; ``video`` forces one ``.mp4``;
    ``output_url`` hands back that address as the output instead of the fake's own file.
    """

    text: str = ""
    duration: float | None = None
    start_delay: float | None = None
    fail: bool = False
    hang: bool = False
    outputs: int = 1
    create_error: int | None = None
    html: bool = False
    video: bool = False
    output_url: str | None = None

    @classmethod
    def parse(cls, text: str) -> Script:
        values: dict[str, Any] = {"text": _DIRECTIVE.sub("", text).strip()}
        for name, raw in _DIRECTIVE.findall(text):
            if name in ("outputs", "create_error"):
                values[name] = int(raw)
            elif name in ("duration", "start_delay"):
                values[name] = float(raw)
            elif name in ("fail", "hang", "html", "video"):
                values[name] = True
            elif name == "output_url":
                values[name] = raw
        return cls(**values)


def version_id(model: str) -> str:
    """The fake's (deterministic, 64-hex) version id for ``owner/name``."""
    return hashlib.sha256(model.encode()).hexdigest()


def is_video_model(model: str) -> bool:
    return any(hint in model.lower() for hint in VIDEO_MODEL_HINTS)


def _iso(moment: datetime) -> str:
    """Replicate's timestamp style: ISO 8601, microseconds, ``Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _prediction_id() -> str:
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    return "".join(secrets.choice(alphabet) for _ in range(26))


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"


def progress_line(step: int, total: int, seconds_per_step: float) -> str:
    """One tqdm line, e.g. `` 40%|████      | 20/50 [00:01<00:01, 19.90it/s]``."""
    percent = 100 * step // total
    bar = "█" * (percent // 10) + " " * (10 - percent // 10)
    if step == 0:
        return f"{percent:3d}%|{bar}| {step}/{total} [00:00<?, ?it/s]"
    elapsed, remaining = step * seconds_per_step, (total - step) * seconds_per_step
    rate = 1 / seconds_per_step if seconds_per_step > 0 else 999.99
    return f"{percent:3d}%|{bar}| {step}/{total} [{_clock(elapsed)}<{_clock(remaining)}, {rate:.2f}it/s]"


# --------------------------------------------------------------------------- predictions


@dataclass
class Run:
    """One prediction. Its JSON is computed from the clock whenever it is asked for."""

    id: str
    model: str
    version: str
    input: dict[str, Any]
    script: Script
    base_url: str
    start_delay: float
    duration: float
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    created: float = field(default_factory=time.monotonic)
    canceled_after: float | None = None
    seed: int = field(default_factory=lambda: secrets.randbelow(100_000))

    @property
    def video(self) -> bool:
        return self.script.video or is_video_model(self.model)

    @property
    def finish_after(self) -> float:
        return self.start_delay + self.duration

    def _elapsed(self, now: float | None = None) -> float:
        elapsed = (time.monotonic() if now is None else now) - self.created
        return elapsed if self.canceled_after is None else min(elapsed, self.canceled_after)

    def status(self, now: float | None = None) -> str:
        elapsed = self._elapsed(now)
        if self.canceled_after is not None:
            return "canceled"
        if elapsed < self.start_delay:
            return "starting"
        if self.script.hang or elapsed < self.finish_after:
            return "processing"
        return "failed" if self.script.fail else "succeeded"

    def cancel(self) -> None:
        """Cancel at this moment unless the prediction already finished (then nothing changes)."""
        if self.status() not in TERMINAL:
            self.canceled_after = time.monotonic() - self.created

    def file_names(self) -> list[str]:
        if self.video:
            return [f"{self.id}-0.mp4"]
        return [f"{self.id}-{index}.png" for index in range(max(1, self.script.outputs))]

    def output(self) -> str | list[str]:
        urls = [f"{self.base_url}/files/{name}" for name in self.file_names()]
        if self.script.output_url:
            urls = [self.script.output_url]
        return urls[0] if self.video else urls

    def logs(self, status: str, elapsed: float) -> str:
        if status == "starting" or elapsed < self.start_delay:  # also: canceled before it started
            return ""
        lines = [f"Using seed: {self.seed}"]
        processed = elapsed - self.start_delay
        fraction = min(1.0, processed / self.duration) if self.duration > 0 else 1.0
        if self.script.hang:
            fraction = min(fraction, 0.9)  # a hung job's progress bar gets stuck
        if status == "failed":
            fraction = 0.6
        per_step = self.duration / PROGRESS_STEPS
        reached = int(fraction * PROGRESS_STEPS)
        lines += [progress_line(step, PROGRESS_STEPS, per_step) for step in range(0, reached + 1, 5)]
        if reached % 5:
            lines.append(progress_line(reached, PROGRESS_STEPS, per_step))
        if status == "failed":
            lines += [
                "Traceback (most recent call last):",
                '  File "/src/predict.py", line 112, in predict',
                "    images = self.pipe(**kwargs).images",
                f"torch.OutOfMemoryError: {OOM_ERROR}",
            ]
        return "\n".join(lines) + "\n"

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """The prediction exactly as ``GET /v1/predictions/{id}`` returns it right now."""
        now = time.monotonic() if now is None else now
        status, elapsed = self.status(now), self._elapsed(now)
        started = elapsed >= self.start_delay
        completed_after = self.canceled_after if status == "canceled" else self.finish_after
        predict_time = max(0.0, min(elapsed, completed_after) - self.start_delay)
        get_url = f"{self.base_url}/v1/predictions/{self.id}"
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "input": self.input,
            "logs": self.logs(status, elapsed),
            "output": self.output() if status == "succeeded" else None,
            "data_removed": False,
            "error": OOM_ERROR if status == "failed" else None,
            "status": status,
            "source": "api",
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.created_at + timedelta(seconds=self.start_delay)) if started else None,
            "completed_at": (
                _iso(self.created_at + timedelta(seconds=completed_after)) if status in TERMINAL else None
            ),
            "urls": {
                "cancel": f"{get_url}/cancel",
                "get": get_url,
                "web": f"https://replicate.com/p/{self.id}",
            },
            "metrics": {"predict_time": round(predict_time, 6)} if status in TERMINAL and started else {},
        }


# --------------------------------------------------------------------------- errors

_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The request body could not be parsed as JSON."),
    401: ("Unauthenticated", "You did not pass a valid authentication token"),
    402: (
        "Insufficient credit",
        "You have insufficient credit to run this model. Go to https://replicate.com/account/billing"
        "#billing to purchase credit. Once you purchase credit, please wait a few minutes before trying again.",
    ),
    403: ("Forbidden", "You do not have permission to perform this action."),
    404: ("Not found", "The requested resource could not be found."),
    422: ("Input validation failed", "- input.num_outputs: Must be less than or equal to 4\n"),
    429: (
        "Request was throttled.",
        "Request was throttled. Your rate limit for creating predictions is reduced while you have "
        "less than $5.0 in credit. Expected available in 1 second.",
    ),
    500: ("Internal server error", "An unexpected error occurred. Please try again later."),
    502: ("Bad gateway", "The server received an invalid response from an upstream server."),
    503: ("Service unavailable", "The service is temporarily unavailable. Please try again later."),
    504: ("Gateway timeout", "The server did not receive a timely response from an upstream server."),
}


def problem(status: int, title: str | None = None, detail: str | None = None, **extra: Any) -> Response:
    """Replicate's RFC 7807 error body (``application/problem+json``) for an HTTP status."""
    default_title, default_detail = _PROBLEMS.get(status, ("Error", "An error occurred."))
    body: dict[str, Any] = {
        "title": title or default_title,
        "detail": detail or default_detail,
        "status": status,
    }
    if status == 422 and "invalid_fields" not in extra and title is None:
        extra["invalid_fields"] = [
            {"type": "less_than_or_equal", "field": "input.num_outputs", "description": "Must be <= 4"}
        ]
    body |= extra
    headers = {"retry-after": "1"} if status == 429 else {}
    return Response(json.dumps(body), status, headers=headers, media_type="application/problem+json")


# --------------------------------------------------------------------------- app


@dataclass
class Backend:
    """The fake's shared state: timing defaults, known versions, predictions and records."""

    start_delay: float = 0.3
    duration: float = 1.5
    versions: dict[str, str] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)

    def register(self, model: str) -> str:
        """Remember (and return) the version id of ``owner/name``."""
        version = version_id(model)
        self.versions.setdefault(version, model)
        return version

    def start(self, request: Request, model: str, version: str, inputs: dict[str, Any]) -> Run:
        script = Script.parse(str(inputs.get("prompt", "")))
        run = Run(
            id=_prediction_id(),
            model=model,
            version=version,
            input=inputs,
            script=script,
            base_url=str(request.base_url).rstrip("/"),
            start_delay=self.start_delay if script.start_delay is None else script.start_delay,
            duration=self.duration if script.duration is None else script.duration,
        )
        self.runs[run.id] = run
        return run


def _backend(request: Request) -> Backend:
    return request.app.state.backend


async def _remember(request: Request) -> Any:
    """Record the request (what tests assert on) and return its JSON body (None if absent/invalid)."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    _backend(request).requests.append(
        {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "headers": dict(request.headers),
            "json": body,
        }
    )
    return body


def _unauthenticated(request: Request) -> Response | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or token.strip() == BAD_TOKEN:
        return problem(401)
    return None


def _wait_seconds(request: Request) -> float:
    """``Prefer: wait`` holds the request up to 60 s, ``Prefer: wait=N`` up to N (1..60)."""
    for preference in request.headers.get("prefer", "").split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "wait":
            try:
                return min(60.0, max(1.0, float(value))) if value.strip() else 60.0
            except ValueError:
                return 60.0
    return 0.0


def _resolve_version(backend: Backend, ref: str) -> tuple[str, str] | None:
    """``(model, version id)`` for a version reference, or None when it is malformed."""
    match = re.fullmatch(r"(?P<owner>[^/:\s]+)/(?P<name>[^/:\s]+)(?::(?P<version>[0-9a-f]{64}))?", ref)
    if match:
        model = f"{match['owner']}/{match['name']}"
        version = match["version"] or backend.register(model)
        backend.versions.setdefault(version, model)
        return model, version
    if re.fullmatch(r"[0-9a-f]{64}", ref):
        return backend.versions.get(ref, UNKNOWN_MODEL), ref
    return None


async def _create(request: Request, body: Any, model: str, version: str) -> Response:
    """The shared tail of both create endpoints: validate, script, start, honour ``Prefer: wait``."""
    inputs = body.get("input") if isinstance(body, dict) else None
    if not isinstance(inputs, dict):
        return problem(
            422,
            "Input validation failed",
            "- input: Invalid type. Expected: object, given: null\n",
            invalid_fields=[
                {"type": "invalid_type", "field": "input", "description": "Invalid type. Expected: object"}
            ],
        )
    script = Script.parse(str(inputs.get("prompt", "")))
    if script.create_error:
        return problem(script.create_error)
    run = _backend(request).start(request, model, version, inputs)
    wait = _wait_seconds(request)
    deadline = time.monotonic() + wait
    while wait and run.status() not in TERMINAL and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    prediction = run.snapshot()
    if wait and prediction["status"] not in TERMINAL:
        # Like the real API (see replicate-python's run.py): a blocking request that runs out of
        # time answers "starting", whatever the prediction is doing, so the client falls back to polling.
        prediction["status"] = "starting"
    return JSONResponse(prediction, 201)


async def create_model_prediction(request: Request) -> Response:
    body = await _remember(request)
    if (rejection := _unauthenticated(request)) is not None:
        return rejection
    if body is None:
        return problem(400)
    model = f"{request.path_params['owner']}/{request.path_params['name']}"
    return await _create(request, body, model, _backend(request).register(model))


async def create_prediction(request: Request) -> Response:
    body = await _remember(request)
    if (rejection := _unauthenticated(request)) is not None:
        return rejection
    if not isinstance(body, dict):
        return problem(400)
    resolved = _resolve_version(_backend(request), str(body.get("version") or ""))
    if resolved is None:
        return problem(
            422,
            "Invalid version or not permitted",
            "The specified version does not exist (or perhaps you don't have permission to use it?)",
        )
    return await _create(request, body, *resolved)


def _run_or_404(request: Request) -> Run | Response:
    run = _backend(request).runs.get(request.path_params["id"])
    return run if run is not None else problem(404)


async def get_prediction(request: Request) -> Response:
    await _remember(request)
    if (rejection := _unauthenticated(request)) is not None:
        return rejection
    run = _run_or_404(request)
    return run if isinstance(run, Response) else JSONResponse(run.snapshot())


async def cancel_prediction(request: Request) -> Response:
    await _remember(request)
    if (rejection := _unauthenticated(request)) is not None:
        return rejection
    run = _run_or_404(request)
    if isinstance(run, Response):
        return run
    run.cancel()
    return JSONResponse(run.snapshot())


def _version_json(model: str, version: str) -> dict[str, Any]:
    output: dict[str, Any] = (
        {"type": "string", "format": "uri", "title": "Output"}
        if is_video_model(model)
        else {"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output"}
    )
    prompt = {"type": "string", "title": "Prompt", "x-order": 0, "description": "Prompt for generated output"}
    return {
        "id": version,
        "created_at": "2024-08-01T12:00:00.000000Z",
        "cog_version": "0.9.12",
        "openapi_schema": {
            "openapi": "3.0.2",
            "info": {"title": "Cog", "version": "0.1.0"},
            "paths": {},
            "components": {
                "schemas": {
                    "Input": {
                        "type": "object",
                        "title": "Input",
                        "required": ["prompt"],
                        "properties": {"prompt": prompt},
                    },
                    "Output": output,
                }
            },
        },
    }


async def get_model(request: Request) -> Response:
    await _remember(request)
    if (rejection := _unauthenticated(request)) is not None:
        return rejection
    owner, name = request.path_params["owner"], request.path_params["name"]
    model = f"{owner}/{name}"
    return JSONResponse(
        {
            "url": f"https://replicate.com/{model}",
            "owner": owner,
            "name": name,
            "description": f"Fake {'video' if is_video_model(model) else 'image'} model {model}",
            "visibility": "public",
            "github_url": None,
            "paper_url": None,
            "license_url": None,
            "run_count": 123456,
            "cover_image_url": None,
            "default_example": None,
            "latest_version": _version_json(model, _backend(request).register(model)),
        }
    )


async def get_version(request: Request) -> Response:
    await _remember(request)
    if (rejection := _unauthenticated(request)) is not None:
        return rejection
    model = f"{request.path_params['owner']}/{request.path_params['name']}"
    version = request.path_params["version"]
    if not re.fullmatch(r"[0-9a-f]{64}", version):
        return problem(404)
    _backend(request).versions.setdefault(version, model)
    return JSONResponse(_version_json(model, version))


_FILE = re.compile(r"(?P<id>[0-9a-z]+)-(?P<index>\d+)\.(?P<ext>png|mp4)")
_PALETTE = [(200, 40, 40), (40, 160, 60), (50, 80, 210), (220, 180, 30)]


async def get_file(request: Request) -> Response:
    """Serve an output file (no auth, like replicate.delivery); HTML labelled PNG under ``[[html]]``."""
    await _remember(request)
    backend, name = _backend(request), request.path_params["file_name"]
    match = _FILE.fullmatch(name)
    run = backend.runs.get(match["id"]) if match else None
    if match is None or run is None or name not in run.file_names():
        return Response("Not found", 404, media_type="text/plain")
    backend.downloads.append(request.url.path)
    if run.script.html:
        return Response(media_samples.html_page(), media_type="image/png")
    if match["ext"] == "mp4":
        return Response(media_samples.mp4(), media_type="video/mp4")
    color = _PALETTE[int(match["index"]) % len(_PALETTE)]
    return Response(media_samples.png(color=color), media_type="image/png")


def create_app(backend: Backend | None = None) -> Starlette:
    """The ASGI app; ``backend`` (shared with the runner) holds predictions and request records."""
    app = Starlette(
        routes=[
            Route("/v1/models/{owner}/{name}/predictions", create_model_prediction, methods=["POST"]),
            Route("/v1/models/{owner}/{name}/versions/{version}", get_version, methods=["GET"]),
            Route("/v1/models/{owner}/{name}", get_model, methods=["GET"]),
            Route("/v1/predictions", create_prediction, methods=["POST"]),
            Route("/v1/predictions/{id}", get_prediction, methods=["GET"]),
            Route("/v1/predictions/{id}/cancel", cancel_prediction, methods=["POST"]),
            Route("/files/{file_name}", get_file, methods=["GET"]),
        ]
    )
    app.state.backend = backend if backend is not None else Backend()
    return app


# --------------------------------------------------------------------------- runner


class FakeReplicate(BackgroundServer):
    """Runs the fake API with uvicorn in a background thread, e.g. ``with FakeReplicate() as fake:``.

    ``start_delay``/``duration`` are the default seconds a prediction spends "starting" and
    "processing"; ``versions`` maps version ids to ``owner/name`` for ``POST /v1/predictions``.
    """

    def __init__(
        self,
        *,
        start_delay: float = 0.3,
        duration: float = 1.5,
        versions: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.backend = Backend(start_delay=start_delay, duration=duration, versions=dict(versions or {}))
        super().__init__(create_app(self.backend), name="fake-replicate", host=host, port=port)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received: method, path, query, headers (lower-case names), json body."""
        return self.backend.requests

    @property
    def downloads(self) -> list[str]:
        """Paths of the output files fetched (``/files/...``), in order."""
        return self.backend.downloads

    @property
    def predictions(self) -> dict[str, dict[str, Any]]:
        """Prediction id -> its JSON as of now."""
        now = time.monotonic()
        return {run_id: run.snapshot(now) for run_id, run in list(self.backend.runs.items())}

    def version_for(self, model: str) -> str:
        """A version id that ``POST /v1/predictions`` resolves to ``model`` (``owner/name``)."""
        return self.backend.register(model)

    @contextmanager
    def paced(self, *, start_delay: float, duration: float) -> Iterator[None]:
        """New predictions spend these seconds starting and processing while the block runs, so one
        fake serves tests that want quick generations and tests that watch them; the pace before
        comes back afterwards."""
        before = (self.backend.start_delay, self.backend.duration)
        self.backend.start_delay, self.backend.duration = start_delay, duration
        try:
            yield
        finally:
            self.backend.start_delay, self.backend.duration = before

    def clear(self) -> None:
        """Forget recorded requests, downloads and predictions."""
        self.backend.requests.clear()
        self.backend.downloads.clear()
        self.backend.runs.clear()

    def env(self) -> dict[str, str]:
        """The replicate client's standard variables, pointing it here."""
        return {"REPLICATE_BASE_URL": self.url, "REPLICATE_API_TOKEN": GOOD_TOKEN}


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Replicate API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9998)
    parser.add_argument("--start-delay", type=float, default=0.3, help="seconds a prediction is 'starting'")
    parser.add_argument("--duration", type=float, default=1.5, help="seconds a prediction is 'processing'")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args()
    backend = Backend(start_delay=args.start_delay, duration=args.duration)
    print(f"Fake Replicate on http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    uvicorn.run(
        create_app(backend), host=args.host, port=args.port, lifespan="off", access_log=args.access_log
    )


if __name__ == "__main__":
    main()
