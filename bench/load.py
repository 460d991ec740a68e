"""Load: many replies at once through the HTTP API, with live viewers, side by side with LiteLLM alone.

Everything runs against the local fake provider (in a process of its own), in one go:

  litellm      LiteLLM alone, in one process on the app's event loop (uvloop), the same streams the
               app asks for: the ceiling
  sqlite-1     the app, one worker, SQLite and the in-process channel (the embedded default)
  pg-1         the app, one worker, PostgreSQL
  pg-redis-2   the app, two workers, PostgreSQL + Redis

For each, rounds of N replies posted at once (100 tokens at 50 tokens/s each, so the provider's
own time is about 2 s), with V websocket viewers (bench/reflex_viewer.py) following some of those
chats. Progress is watched in the database directly, never through the app. Reported: replies
completed, errors, lost replies, the time until all were saved complete, tokens/s delivered
against offered and against LiteLLM alone, the CPU time the round took (the app's processes, or
LiteLLM alone's: what the app adds to LiteLLM's own work), and the viewers' added delay (the
provider sends a token -> it is in the page) at p50/p95.

Then, on the single-worker SQLite app, in Chromium: opening a 2,000-message chat against a
20-message one (time to the last message rendered, websocket bytes), and the first token of a
reply in a 1,000-message chat against LiteLLM alone on the same 1,000 messages.

Run: ``.venv/bin/python bench/load.py`` (about ten minutes; ``--json`` for the figures as JSON,
``--sizes 20,50,200 --viewers 10 --configs litellm,sqlite-1,pg-1,pg-redis-2`` to choose).
PostgreSQL comes from TEST_DATABASE_URL (default: the local one), Redis from TEST_REDIS_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench import streaming_cost  # noqa: E402
from bench.reflex_viewer import Viewer  # noqa: E402
from chat_app.models import Message  # noqa: E402
from chat_app.services.litellm_loader import load_litellm  # noqa: E402
from tests.fakes.providers import provider_env  # noqa: E402
from tests.support.app_server import (  # noqa: E402
    AppProcess,
    app_environment,
    free_port,
    isolated_copy,
    serving_process,
)
from tests.support.databases import postgres_schema  # noqa: E402

MODEL = "openai/gpt-4o"
TOKENS, GAP = 100, 0.02  # 100 tokens at 50 tokens/s
DIRECTIVE = f"[[tokens={TOKENS}]] [[delay={GAP}]] [[stamp]]"
PROVIDER_TIME = (TOKENS - 1) * GAP
PASSWORD = "correct horse battery"
STAMP = re.compile(r"tok(\d+)@(\d+\.\d+)")
CONFIGS = ("litellm", "sqlite-1", "pg-1", "pg-redis-2")


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --------------------------------------------------------------------------- the fake provider


@contextmanager
def fake_provider_process(log_path: Path | None = None) -> Iterator[str]:
    """The fake in a process of its own, so neither the app nor this script shares its CPU time."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "tests.fakes.providers", "--port", str(port)]
    with serving_process(argv, f"{url}/api/tags", log_path=log_path):
        yield url


# --------------------------------------------------------------------------- LiteLLM alone


async def _litellm_alone(fake_url: str, n: int) -> dict[str, Any]:
    """N streams at once through litellm.acompletion, as the app asks for them (one process)."""
    litellm = load_litellm()

    delays: list[float] = []  # the provider sends a token -> LiteLLM hands it over: the floor

    async def one(i: int) -> int:
        stream = await litellm.acompletion(
            model=MODEL,
            api_base=f"{fake_url}/v1",
            api_key="sk-fake-openai",
            stream=True,
            max_retries=0,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": f"#{i} {DIRECTIVE}"}],
        )
        tokens = 0
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                tokens += 1
                if i >= 0:
                    delays.extend(
                        (time.time() - float(t)) * 1000
                        for _, t in STAMP.findall(chunk.choices[0].delta.content)
                    )
        return tokens

    await one(-1)  # imports, provider setup
    started, cpu, host = time.perf_counter(), time.process_time(), psutil.cpu_times()
    counts = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    host = host_share(host, psutil.cpu_times())
    done = [c for c in counts if isinstance(c, int) and c == TOKENS]
    return {
        "n": n,
        "completed": len(done),
        "errors": n - len(done),
        "lost": 0,
        "elapsed": elapsed,
        "cpu": cpu,
        "host": host,
        "tokens": sum(done),
        "viewer_delays_ms": [],
        "litellm_delays_ms": delays,
    }


def litellm_alone(fake_url: str, n: int) -> dict[str, Any]:
    """In a fresh process, like one worker."""
    out = subprocess.run(
        [sys.executable, __file__, "--litellm-alone", str(n), "--fake", fake_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the app under load


class Watch:
    """Progress read from the database directly (a connection of its own), never through the app."""

    def __init__(self, database_url: str) -> None:
        if database_url.startswith("sqlite:///"):
            path = database_url.removeprefix("sqlite:///")
            self.engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
        else:
            self.engine = sa.create_engine(database_url)

    def replies(self, ids: list[uuid.UUID]) -> list[tuple[str, datetime, int | None, str | None]]:
        with self.engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.select(Message.status, Message.updated_at, Message.output_tokens, Message.error).where(
                        Message.id.in_(ids)
                    )
                )
            ]

    def close(self) -> None:
        self.engine.dispose()


def viewer_delays(viewer: Viewer) -> list[float]:
    """For each token: when it first reached a viewer minus when the provider sent it, in ms.

    The page gets the reply in flight as pieces of text appended to what it has (`liveText`
    scripts), then the saved message in a delta: each is read for the tokens it carries.
    """
    seen: set[int] = set()
    delays = []
    received = [*viewer.live_pieces, *((arrived, json.dumps(delta)) for arrived, delta in viewer.deltas)]
    for arrived, text in sorted(received, key=lambda r: r[0]):
        for number, stamp in STAMP.findall(text):
            if int(number) not in seen:
                seen.add(int(number))
                delays.append((arrived - float(stamp)) * 1000)
    return delays


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and all its children (the app's server and its workers)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def host_share(before: Any, after: Any) -> dict[str, float]:
    """What the whole machine did with its cores between two `psutil.cpu_times()`: busy (any
    process: the app, the fake provider, the databases, this script) and stolen by other guests
    of the host, each a share of all the cores' time. A round near 100 % busy was bound by the
    machine, not by what it measured."""
    spent = {
        name: after_ - before_ for name, after_, before_ in zip(after._fields, after, before, strict=True)
    }
    # guest time is already counted in user time
    total = sum(v for name, v in spent.items() if name not in ("guest", "guest_nice")) or 1.0
    idle = spent["idle"] + spent.get("iowait", 0.0)
    return {"busy": (total - idle) / total, "steal": spent.get("steal", 0.0) / total}


async def load_round(url: str, watch: Watch, n: int, viewers: int, pid: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        email = f"load-{uuid.uuid4().hex[:8]}@example.com"
        (
            await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
        ).raise_for_status()
        chat_ids = []
        for _ in range(n):
            answer = await client.post("/api/chats", json={"model_id": MODEL})
            answer.raise_for_status()
            chat_ids.append(answer.json()["id"])
        cookies = {"chat_session": client.cookies.get("chat_session") or ""}
        watching: list[Viewer] = []
        for i, chat_id in enumerate(chat_ids[:viewers]):
            viewer = Viewer(url, cookies)
            await viewer.open(f"/chat/{chat_id}")
            watching.append(viewer)
            if i == 0:
                await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
        started, cpu, host = datetime.now(timezone.utc), cpu_seconds(pid), psutil.cpu_times()
        answers = await asyncio.gather(
            *(
                client.post(f"/api/chats/{c}/messages", json={"content": f"round {n} {DIRECTIVE}"})
                for c in chat_ids
            ),
            return_exceptions=True,
        )
        posted = [a for a in answers if isinstance(a, httpx.Response) and a.status_code == 202]
        reply_ids = [uuid.UUID(a.json()["reply"]["id"]) for a in posted]
        deadline = time.monotonic() + 60 + n * 0.5
        rows: list = []
        timeline = []  # (seconds since posting, replies by status): where the time goes
        while time.monotonic() < deadline:
            rows = await asyncio.to_thread(watch.replies, reply_ids)
            counts: dict[str, int] = {}
            for row in rows:
                counts[row[0]] = counts.get(row[0], 0) + 1
            timeline.append(((datetime.now(timezone.utc) - started).total_seconds(), counts))
            if rows and all(row[0] not in ("pending", "streaming") for row in rows):
                break
            await asyncio.sleep(0.1)
        # A reply is saved complete when its text is; the provider's count of its tokens follows
        # (without touching `updated_at`, which times the round): wait for those to count them.
        counted_by = time.monotonic() + 30
        while time.monotonic() < counted_by and any(r[0] == "complete" and r[2] is None for r in rows):
            await asyncio.sleep(0.1)
            rows = await asyncio.to_thread(watch.replies, reply_ids)
        cpu, host = cpu_seconds(pid) - cpu, host_share(host, psutil.cpu_times())
        await asyncio.sleep(0.3)  # the viewers' last updates
        for viewer in watching:
            await viewer.close()
    complete = [r for r in rows if r[0] == "complete"]
    finished = [r for r in rows if r[0] not in ("pending", "streaming")]
    last = max((r[1] for r in finished), default=started)
    return {
        "n": n,
        "completed": len(complete),
        "errors": (n - len(posted)) + (len(finished) - len(complete)),
        "lost": len(rows) - len(finished),
        "elapsed": (last - started).total_seconds(),
        "cpu": cpu,
        "host": host,
        "tokens": sum(r[2] or 0 for r in complete),
        "viewer_delays_ms": [d for v in watching for d in viewer_delays(v)],
        "viewer_bytes": [v.bytes_received for v in watching],
        "refused": [
            f"{a.status_code} {a.text[:200]}" if isinstance(a, httpx.Response) else repr(a)
            for a in answers
            if not (isinstance(a, httpx.Response) and a.status_code == 202)
        ],
        "failed": [r[3] for r in finished if r[0] != "complete"],
        "timeline": timeline,
    }


# --------------------------------------------------------------------------- history size, in Chromium


def history_measures(url: str, database_url: str, fake_url: str, runs: int) -> dict[str, Any]:
    """Open a 2,000- and a 20-message chat; first token in a 1,000-message chat (vs LiteLLM alone)."""
    from playwright.sync_api import sync_playwright

    ids = streaming_cost.seed(
        database_url,
        {"open20": [20] * runs, "open2000": [2000] * runs, "ttft1000": [1000] * runs, "warm": [10]},
    )
    direct = asyncio.run(streaming_cost.direct_ttft(fake_url, 1000, runs))
    results: dict[str, Any] = {
        "open": {"20": [], "2000": []},
        "ttft_1000": {"direct_litellm": direct["reused"]},
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=streaming_cost.CHROMIUM_ARGS,
        )
        try:
            context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
            context.set_default_timeout(60_000)
            context.add_init_script(streaming_cost.WS_HOOK_JS)
            page = context.new_page()
            counter = streaming_cost.FrameCounter(page)
            streaming_cost.sign_in(page)
            streaming_cost.one_reply(page, counter, ids["warm"][0], 10)
            for i in range(runs):  # interleaved, so the machine's drift hits both alike
                for size in ("20", "2000"):
                    page.goto("about:blank")
                    counter.reset()
                    page.goto(f"/chat/{ids['open' + size][i]}")
                    shown_at = page.wait_for_function(
                        """(last) => [...document.querySelectorAll('[data-testid="message"]')]
                             .some((m) => m.textContent.includes(last)) ? performance.now() : false""",
                        arg=f"message {size}",
                        polling="raf",
                    ).json_value()
                    page.wait_for_timeout(500)
                    results["open"][size].append({"ms": shown_at, "bytes": counter.total()})
            results["ttft_1000"]["app"] = [
                streaming_cost.one_reply(page, counter, ids["ttft1000"][i], 1000)["ttft_ms"]
                for i in range(runs)
            ]
        finally:
            browser.close()
    return results


# --------------------------------------------------------------------------- configurations


@contextmanager
def database_for(config: str, tmp: Path) -> Iterator[str]:
    if config == "sqlite-1":
        yield f"sqlite:///{tmp / f'{config}.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with postgres_schema(base, prefix="bench") as url:
        yield url


def start_app(config: str, database_url: str, fake_url: str, tmp: Path, project: Path) -> AppProcess:
    # One person sends every reply of a round: their per-person budgets are off (0).
    no_budgets = {
        "REPLIES_IN_FLIGHT_PER_PERSON": "0",
        "REQUESTS_PER_MINUTE_PER_PERSON": "0",
        "MONTHLY_SPEND_PER_PERSON": "0",
    }
    extra = {"GRANIAN_WORKERS": "1"}
    if config == "pg-redis-2":
        extra = {
            "GRANIAN_WORKERS": "2",
            "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "REDIS_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        }
    port = free_port()
    env = app_environment(
        port,
        database_url,
        {
            **provider_env(fake_url),
            **no_budgets,
            **extra,
            "MEDIA_DIR": str(tmp / "media"),
            "LLM_FIRST_TOKEN_TIMEOUT": "60",
            "LLM_CHUNK_GAP_TIMEOUT": "60",
            "LLM_TOTAL_TIMEOUT": "300",
        },
    )
    from chat_app.migrations import prepare

    prepare(database_url)
    app = AppProcess(env, port, tmp / f"{config}.log", cwd=project)
    app.wait_until_up()
    return app


def run_config(
    config: str,
    database_url: str,
    fake_url: str,
    tmp: Path,
    project: Path,
    sizes: list[int],
    viewers: int,
    history_runs: int,
    results: dict[str, Any],
) -> None:
    app = start_app(config, database_url, fake_url, tmp, project)
    watch = Watch(database_url)
    try:
        asyncio.run(load_round(app.url, watch, 5, 1, app.proc.pid))  # warm: imports, first calls
        rounds = []
        for n in sizes:
            progress(f"{config}: {n} replies at once, {min(viewers, n)} viewers")
            rounds.append(asyncio.run(load_round(app.url, watch, n, min(viewers, n), app.proc.pid)))
        results["configs"][config] = rounds
        if config == "sqlite-1" and history_runs:
            progress("sqlite-1: long chats in Chromium")
            results["history"] = history_measures(app.url, database_url, fake_url, history_runs)
    finally:
        watch.close()
        app.stop()


def run(
    configs: list[str],
    sizes: list[int],
    viewers: int,
    history_runs: int,
    keep: Path | None = None,
    passes: int = 1,
) -> list[dict[str, Any]]:
    """One result per pass; each pass runs every config in turn, so that on a shared machine a
    config's figures can be set beside the others' from the same minutes."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    results: list[dict[str, Any]] = []
    try:
        with fake_provider_process(tmp / "fake.log") as fake_url:
            project = isolated_copy(tmp / "project") if any(c != "litellm" for c in configs) else tmp
            for number in range(1, passes + 1):
                result: dict[str, Any] = {"sizes": sizes, "viewers": viewers, "configs": {}, "history": None}
                results.append(result)
                if "litellm" in configs:
                    progress(f"pass {number}: LiteLLM alone")
                    result["configs"]["litellm"] = [litellm_alone(fake_url, n) for n in sizes]
                for config in (c for c in configs if c != "litellm"):
                    progress(f"pass {number}, {config}: starting the app")
                    with database_for(config, tmp) as database_url:
                        run_config(
                            config,
                            database_url,
                            fake_url,
                            tmp,
                            project,
                            sizes,
                            viewers,
                            history_runs if number == 1 else 0,  # the long chats: once
                            result,
                        )
    finally:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for log in tmp.glob("*.log"):
                shutil.copy(log, keep / log.name)
        shutil.rmtree(tmp, ignore_errors=True)
    return results


# --------------------------------------------------------------------------- report


def _rate(r: dict[str, Any]) -> float:
    return r["tokens"] / r["elapsed"] if r["elapsed"] else 0.0


def report_passes(passes: list[dict[str, Any]]) -> str:
    """Each pass's table, then (with several) each goal's figure from every pass and its median."""
    if len(passes) == 1:
        return report(passes[0])
    lines = []
    for number, result in enumerate(passes, 1):
        lines += ["", f"===== pass {number} of {len(passes)}", report(result)]
    lines += ["", f"Goals across the {len(passes)} passes (each pass's figure, then the median):"]
    by_goal: dict[str, list[float]] = {}
    for result in passes:
        for goal, value in _goal_figures(result):
            by_goal.setdefault(goal, []).append(value)
    for goal, values in by_goal.items():
        shown = ", ".join(f"{v:g}" for v in values)
        lines.append(f"  {goal}: {shown}; median {statistics.median(values):g}")
    return "\n".join(lines)


def _round_in(results: dict[str, Any]) -> Callable[[str, int], dict[str, Any] | None]:
    """`at(config, n)`: that config's round of n replies at once in these results, if it ran."""
    configs, sizes = results["configs"], results["sizes"]

    def at(name: str, n: int) -> dict[str, Any] | None:
        return configs[name][sizes.index(n)] if name in configs and n in sizes else None

    return at


def _goal_figures(results: dict[str, Any]) -> list[tuple[str, float]]:
    """The goals' figures as numbers, rounded as the report shows them."""
    out: list[tuple[str, float]] = []
    at = _round_in(results)

    lite, one, two = at("litellm", 200), at("pg-1", 200), at("pg-redis-2", 200)
    for name in ("sqlite-1", "pg-1"):
        r = at(name, 200)
        if r and lite:
            out.append(
                (f"200 at once, {name} / LiteLLM alone, % (goal >= 90)", round(_rate(r) / _rate(lite) * 100))
            )
    if one and two:
        out.append(("200 at once, pg-redis-2 / pg-1, x (goal >= 1.7)", round(_rate(two) / _rate(one), 2)))
    for name in CONFIGS[1:]:
        r = at(name, 20)
        if r:
            out.append(
                (
                    f"20 at once, {name}, x the provider's time (goal <= 1.2)",
                    round(r["elapsed"] / PROVIDER_TIME, 2),
                )
            )
        r = at(name, 50)
        if r and r["viewer_delays_ms"]:
            out.append(
                (
                    f"50 at once, {name}, viewer delay p95 ms (goal <= 100)",
                    round(percentile(r["viewer_delays_ms"], 0.95)),
                )
            )
    return out


def report(results: dict[str, Any]) -> str:
    configs, lines = results["configs"], []
    base = {r["n"]: r for r in configs.get("litellm", [])}
    for i, n in enumerate(results["sizes"]):
        offered = n * TOKENS / PROVIDER_TIME
        lines += [
            "",
            f"{n} replies at once: {TOKENS} tokens each at {1 / GAP:.0f} tokens/s "
            f"(offered {offered:,.0f} tokens/s; the provider's own time {PROVIDER_TIME:.2f} s)",
            f"{'':12} {'done':>5} {'errors':>6} {'lost':>5} {'all saved':>10} {'x provider':>10} "
            f"{'tokens/s':>9} {'offered':>8} {'vs LiteLLM':>10} {'CPU s (x LiteLLM)':>18} "
            f"{'delay p50/p95 ms':>19} {'host busy (stolen)':>19}",
        ]
        for name in CONFIGS:
            if name not in configs:
                continue
            r = configs[name][i]
            delays = r["viewer_delays_ms"] or r.get("litellm_delays_ms", [])  # LiteLLM's own: the floor
            vs = f"{_rate(r) / _rate(base[n]) * 100:.0f} %" if n in base and _rate(base[n]) else "-"
            view = f"{percentile(delays, 0.5):.0f} / {percentile(delays, 0.95):.0f}" if delays else "-"
            cpu = f"{r['cpu']:.2f}" + (f" ({r['cpu'] / base[n]['cpu']:.2f}x)" if n in base else "")
            host = f"{r['host']['busy'] * 100:.0f} % ({r['host']['steal'] * 100:.0f} %)"
            lines.append(
                f"{name:12} {r['completed']:>5} {r['errors']:>6} {r['lost']:>5} {r['elapsed']:>9.2f}s "
                f"{r['elapsed'] / PROVIDER_TIME:>10.2f} {_rate(r):>9,.0f} {_rate(r) / offered * 100:>7.0f}% "
                f"{vs:>10} {cpu:>18} {view:>19} {host:>19}"
            )
    goals = _goals(results)
    if goals:
        lines += ["", "Goals:"] + [f"  {g}" for g in goals]
    history = results.get("history")
    if history:
        o = history["open"]
        med = {
            k: (statistics.median(x["ms"] for x in v), statistics.median(x["bytes"] for x in v))
            for k, v in o.items()
        }
        t = history["ttft_1000"]
        app_t, direct_t = statistics.median(t["app"]), statistics.median(t["direct_litellm"])
        lines += [
            "",
            "Long chats (single worker, SQLite, Chromium; medians):",
            f"  open a 20-message chat:    {med['20'][0]:7.0f} ms to the last message, {med['20'][1]:9,.0f} bytes",
            f"  open a 2,000-message chat: {med['2000'][0]:7.0f} ms to the last message, {med['2000'][1]:9,.0f} bytes",
            f"  ratio 2,000 / 20: {med['2000'][0] / med['20'][0]:.2f}x in time, "
            f"{med['2000'][1] / med['20'][1]:.2f}x in bytes (goal <= 1.5 each)",
            f"  first token, 1,000-message chat: app {app_t:.0f} ms, LiteLLM alone {direct_t:.0f} ms "
            f"({app_t - direct_t:+.0f} ms; goal within 50 ms)",
        ]
    return "\n".join(lines)


def _goals(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    at = _round_in(results)

    lite = at("litellm", 200)
    for name in ("sqlite-1", "pg-1"):
        r = at(name, 200)
        if r and lite:
            out.append(
                f"200 at once, {name} / LiteLLM alone: {_rate(r) / _rate(lite) * 100:.0f} % (goal >= 90 %)"
            )
    one, two = at("pg-1", 200), at("pg-redis-2", 200)
    if one and two:
        out.append(
            f"200 at once, pg-redis-2 / pg-1: {_rate(two) / _rate(one):.2f}x (goal >= 1.7x; the machine "
            f"{two['host']['busy'] * 100:.0f} % busy meanwhile, against {one['host']['busy'] * 100:.0f} % for one worker)"
        )
    for name in CONFIGS[1:]:
        r = at(name, 200)
        if r:
            out.append(f"200 at once, {name}: {r['errors']} errors, {r['lost']} lost (goal 0 and 0)")
        r = at(name, 20)
        if r:
            out.append(
                f"20 at once, {name}: all saved after {r['elapsed'] / PROVIDER_TIME:.2f}x the provider's "
                "time (goal <= 1.2x)"
            )
        r = at(name, 50)
        if r and r["viewer_delays_ms"]:
            out.append(
                f"50 at once, {name}: viewer delay p95 {percentile(r['viewer_delays_ms'], 0.95):.0f} ms "
                "(goal <= 100 ms)"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--sizes", default="20,50,200", help="replies at once, per round")
    parser.add_argument("--viewers", type=int, default=10, help="websocket viewers per round")
    parser.add_argument(
        "--history-runs", type=int, default=3, help="Chromium runs per long-chat measure (0: skip)"
    )
    parser.add_argument("--keep", type=Path, help="keep the apps' and the fake's logs here")
    parser.add_argument(
        "--repeat", type=int, default=1, help="passes over the configs, alternating them (medians at the end)"
    )
    parser.add_argument("--litellm-alone", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fake", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.litellm_alone:
        import uvloop  # the event loop the app's server (Granian) runs on, for a like-for-like ceiling

        print(json.dumps(uvloop.run(_litellm_alone(args.fake, args.litellm_alone))))
        return
    configs = [c for c in args.configs.split(",") if c]
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configs: {', '.join(sorted(unknown))}")
    passes = run(
        configs,
        [int(s) for s in args.sizes.split(",")],
        args.viewers,
        args.history_runs,
        args.keep,
        max(args.repeat, 1),
    )
    if args.json:
        print(json.dumps(passes[0] if len(passes) == 1 else passes, indent=1, default=str))
    else:
        print(report_passes(passes))


if __name__ == "__main__":
    main()
