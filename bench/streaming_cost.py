"""What streaming a reply costs: websocket bytes per token, and time to first token.

Starts the fake LLM providers and the real app (``reflex run --env prod --single-port``) on a
temporary SQLite database, seeds chats directly in the database, then drives Chromium with
Playwright:

(a) bytes per streamed token: the websocket payload bytes the server sends to the browser from
    the click on Send until the reply shows ``data-status="complete"``, divided by the tokens of
    the reply, for a chat holding 10 earlier messages and one holding 1,000. The two should be
    about equal: a token must not cost more in a long chat.
(b) time to first token: click on Send until the reply's first token is in the page, against
    ``litellm.acompletion(..., stream=True)`` called directly on the same fake until its first
    content chunk.

Run: ``.venv/bin/python bench/streaming_cost.py`` (``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from sqlmodel import Session  # noqa: E402

from chat_app.db import make_engine  # noqa: E402
from chat_app.migrations import prepare  # noqa: E402
from chat_app.models import Message, User  # noqa: E402
from chat_app.services import (  # noqa: E402
    accounts,
    branches,
    chats,
)
from chat_app.services.litellm_loader import load_litellm  # noqa: E402
from chat_app.state.chat import HISTORY_PAGE  # noqa: E402
from tests.fakes.providers import FakeProviders  # noqa: E402
from tests.support.app_server import (  # noqa: E402
    CHROMIUM_ARGS,
    app_environment,
    free_port,
    isolated_copy,
    running_app,
)

MODEL = "openai/gpt-4o"
TOKENS = 200
DELAY = 0.01  # seconds between the fake's tokens: 100 tokens a second
LONG_REPLIES = (4_000, 12_000)  # tokens: what a long reply costs the page, against its own text
GOAL_LONG_RATIO = 2.0
PASSWORD = "correct horse battery"
EMAIL = "bench@example.com"
SMALL, LARGE = 10, 1000
GOAL_RATIO = 1.05

MESSAGE = '[data-testid="message"]'

# Runs in the page before the click: notes when Send is clicked, when "tok1" and the reply's last
# token first appear in an assistant message, and when that message is shown complete, all on the
# page's own clock (no Python polling in the measurement).
WATCH_JS = """(last) => {
  const w = window.__bench = {click: null, first: null, frame: null, last: null, done: null};
  document.querySelector('[data-testid="send-button"]').addEventListener(
    'click', () => { if (w.click === null) w.click = performance.now(); }, {capture: true, once: true});
  const replies = () => [...document.querySelectorAll('[data-testid="message"][data-role="assistant"]')];
  const has = (m, n) => new RegExp('\\\\btok' + n + '(?!\\\\d)').test(m.textContent);
  const obs = new MutationObserver(() => {
    if (w.click === null) return;
    const now = performance.now();
    if (w.first === null && replies().some(m => has(m, 1))) w.first = now;
    if (w.last === null && replies().some(m => has(m, last))) w.last = now;
    if (w.done === null && replies().some(m => m.dataset.status === 'complete' && has(m, last))) {
      w.done = now;
      obs.disconnect();
    }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true,
                              attributes: true, attributeFilter: ['data-status']});
}"""

# Installed before any page script: notes when the first websocket message carrying "tok1"
# arrives, to split the app's time to first token into "reaches the page" and "is rendered".
WS_HOOK_JS = """(() => {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        const w = window.__bench;
        if (w && w.click !== null && w.frame == null && typeof e.data === 'string' && /\\btok1\\b/.test(e.data))
          w.frame = performance.now();
      });
    }
  };
})()"""

DONE_JS = """([count, last]) => {
  const all = document.querySelectorAll('[data-testid="message"]');
  if (all.length !== count) return false;
  const m = all[all.length - 1];
  return m.dataset.role === 'assistant' && m.dataset.status === 'complete' && m.textContent.includes(last);
}"""


# --------------------------------------------------------------------------- the app


# --------------------------------------------------------------------------- seeding


def seed(database_url: str, plan: dict[str, list[int]]) -> dict[str, list[str]]:
    """One user and, per case, chats holding that many earlier messages ("message 17", ...)."""
    engine = make_engine(database_url)
    ids: dict[str, list[str]] = defaultdict(list)
    with Session(engine, expire_on_commit=False) as session:
        user: User = accounts.register(EMAIL, PASSWORD, session=session)
        user.default_model_id = MODEL
        session.add(user)
        for case, sizes in plan.items():
            for n, size in enumerate(sizes, 1):
                chat = chats.create_chat(user, session=session, model_id=MODEL)
                chat.title = f"bench {case} #{n}"
                session.add(chat)
                earlier = [
                    Message(
                        chat_id=chat.id,
                        seq=i,
                        role="user" if i % 2 else "assistant",
                        content=f"message {i}",
                        status="complete",
                        model_id=None if i % 2 else MODEL,
                    )
                    for i in range(1, size + 1)
                ]
                branches.chain(chat, earlier)  # one branch, which the chat shows
                session.add_all([chat, *earlier])
                ids[case].append(str(chat.id))
        session.commit()
    engine.dispose()
    return dict(ids)


# --------------------------------------------------------------------------- browser


class FrameCounter:
    """Every websocket frame the page receives, from page.on("websocket") → ws.on("framereceived")."""

    def __init__(self, page: Page) -> None:
        self.frames: list[str | bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: self.frames.append(payload)))

    def reset(self) -> None:
        self.frames.clear()

    @staticmethod
    def size(payload: str | bytes) -> int:
        return len(payload.encode("utf-8") if isinstance(payload, str) else payload)

    def total(self) -> int:
        return sum(self.size(f) for f in self.frames)


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_test_id("email").fill(EMAIL)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("composer-input").wait_for(state="visible")


def reply_text(tokens: int) -> str:
    """What the fake writes for `[[tokens=N]]`."""
    return " ".join(f"tok{n}" for n in range(1, tokens + 1))


def one_reply(
    page: Page, counter: FrameCounter, chat_id: str, earlier: int, tokens: int = TOKENS
) -> dict[str, Any]:
    """Open the chat, wait for its history, then send and measure until the reply is complete."""
    progress(f"{tokens}-token reply in a chat with {earlier} earlier messages")
    page.goto(f"/chat/{chat_id}")
    shown = min(earlier, HISTORY_PAGE)  # a chat opens with its latest page
    page.wait_for_function(f"document.querySelectorAll('{MESSAGE}').length === {shown}", timeout=120_000)
    # Each chat was made with MODEL, which its picker shows (one picker: there is no select).
    if page.get_by_test_id("model-picker").inner_text().strip() != "GPT-4o":
        raise SystemExit(f"the chat does not show {MODEL} in its model picker")
    page.get_by_test_id("composer-input").fill(f"Count for me [[tokens={tokens}]] [[delay={DELAY}]]")
    page.evaluate(WATCH_JS, tokens)
    page.wait_for_timeout(500)  # let every frame of the page load be delivered before counting
    counter.reset()
    page.get_by_test_id("send-button").click()
    page.wait_for_function(
        DONE_JS, arg=[shown + 2, f"tok{tokens}"], timeout=60_000 + tokens * DELAY * 2000, polling=10
    )
    sent = counter.total()
    frames = list(counter.frames)
    marks = page.evaluate("window.__bench")

    def since_click(mark: str) -> float | None:
        return marks[mark] - marks["click"] if marks and marks.get(mark) and marks.get("click") else None

    return {
        "bytes": sent,
        "frames": len(frames),
        "bytes_per_token": sent / tokens,
        "bytes_per_text_byte": sent / len(reply_text(tokens).encode()),
        "ttft_ms": since_click("first"),
        "ttft_frame_ms": since_click("frame"),
        # from its first token to the reply shown complete (Send back), beyond the provider's own
        # time between its first and last token
        "complete_after_text_ms": (marks["done"] - marks["first"] - (tokens - 1) * DELAY * 1000)
        if marks and marks.get("done") and marks.get("first")
        else None,
        "payloads": frames,
    }


JOIN_AT = 1_000  # the token after which a second viewer opens the chat of a long reply


def joiner_reply(
    page: Page, joiner: Page, counter: FrameCounter, chat_id: str, tokens: int
) -> dict[str, Any]:
    """A long reply sent from `page`, opened by `joiner` mid-way: what the joiner receives after
    its catch-up (counted from the moment it shows the text so far) against the text still to come."""
    progress(f"{tokens}-token reply, a second viewer joining after token {JOIN_AT}")
    page.goto(f"/chat/{chat_id}")
    page.get_by_test_id("composer-input").wait_for(state="visible")
    page.get_by_test_id("composer-input").fill(f"Count for me [[tokens={tokens}]] [[delay={DELAY}]]")
    page.get_by_test_id("send-button").click()
    page.wait_for_function(LAST_TOKEN_JS, arg=JOIN_AT, timeout=60_000, polling=50)
    joiner.goto(f"/chat/{chat_id}")
    joiner.wait_for_function(LAST_TOKEN_JS, arg=JOIN_AT, timeout=60_000, polling=10)
    counter.reset()
    shown = joiner.evaluate(LAST_TOKEN_JS, 0)
    joiner.wait_for_function(
        DONE_JS, arg=[SMALL + 2, f"tok{tokens}"], timeout=60_000 + tokens * DELAY * 2000, polling=10
    )
    to_come = len(reply_text(tokens).encode()) - len(reply_text(shown).encode())
    return {
        "bytes": counter.total(),
        "frames": len(counter.frames),
        "text_bytes": to_come,
        "joined_at": shown,
    }


# The number of the last token shown in a reply still streaming (0 when none), or whether it is
# past `arg` when given one.
LAST_TOKEN_JS = """(past) => {
  const m = [...document.querySelectorAll('[data-testid="message"][data-role="assistant"][data-status="streaming"]')].pop();
  const numbers = m ? [...m.textContent.matchAll(/tok(\\d+)/g)].map(x => +x[1]) : [];
  const last = numbers.length ? Math.max(...numbers) : 0;
  return past ? last >= past : last;
}"""


# --------------------------------------------------------------------------- frame analysis


def _decode(payload: str | bytes) -> Any:
    """A socket.io message (``42/_event,[...]``) as JSON, else None (pings, handshakes)."""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    text = text.lstrip("0123456789")
    if text.startswith("/"):  # namespace
        text = text.partition(",")[2].lstrip("0123456789")  # and ack id
    try:
        return json.loads(text) if text.startswith("[") else None
    except ValueError:
        return None


def breakdown(payloads: list[str | bytes]) -> dict[str, dict[str, int]]:
    """Bytes and number of sends per state var in the deltas of one reply; sums to the frames' bytes."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"bytes": 0, "sends": 0})
    for payload in payloads:
        message = _decode(payload)
        if not isinstance(message, list) or len(message) < 2 or not isinstance(message[1], dict):
            out["(other frames)"]["bytes"] += FrameCounter.size(payload)
            out["(other frames)"]["sends"] += 1
            continue
        envelope = FrameCounter.size(payload)
        for state, values in (message[1].get("delta") or {}).items():
            for var, value in (values or {}).items():
                name = f"{state.rsplit('.', 1)[-1].rsplit('____', 1)[-1]}.{var.removesuffix('_rx_state_')}"
                size = len(json.dumps(value, separators=(",", ":")).encode("utf-8"))
                out[name]["bytes"] += size
                out[name]["sends"] += 1
                envelope -= size
        out["(frame envelopes, names)"]["bytes"] += envelope
        out["(frame envelopes, names)"]["sends"] += 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["bytes"]))


# --------------------------------------------------------------------------- direct LiteLLM


async def direct_ttft(base_url: str, history: int, runs: int) -> dict[str, list[float]]:
    """First-content-chunk times of litellm.acompletion(stream=True) on the fake, in ms.

    "reused": each reply is read to its end, so the next call reuses the pooled keep-alive
    connection, as the app's calls do. "new": the stream is closed after the first token, so
    every call opens a new connection. (On loopback the fake answers a reused connection about
    40 ms later than a new one, whatever the client; see bench/README.md.)
    """
    litellm = load_litellm()
    messages = [
        {"role": "user" if i % 2 else "assistant", "content": f"message {i}"} for i in range(1, history + 1)
    ]
    messages.append({"role": "user", "content": f"Count for me [[tokens={TOKENS}]] [[delay={DELAY}]]"})

    async def once(read_to_end: bool) -> float:
        start = time.perf_counter()
        stream = await litellm.acompletion(
            model=MODEL,
            api_base=f"{base_url}/v1",
            api_key="sk-fake-openai",
            stream=True,
            messages=messages,
        )
        first = None
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter()
                if not read_to_end:
                    break
        await stream.aclose()
        return (first - start) * 1000

    await once(False)  # warm: lazy imports, provider config
    new = [await once(False) for _ in range(runs)]
    await once(True)  # leaves a keep-alive connection in the pool
    reused = [await once(True) for _ in range(runs)]
    return {"reused": reused, "new": new}


# --------------------------------------------------------------------------- main


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run(bytes_runs: int, ttft_runs: int, keep: Path | None, long_replies: tuple[int, ...]) -> dict[str, Any]:
    small_runs = max(bytes_runs, ttft_runs)
    tmp = Path(tempfile.mkdtemp(prefix="bench-streaming-"))
    try:
        database_url = f"sqlite:///{tmp / 'app.db'}"
        prepare(database_url)
        ids = seed(
            database_url,
            {
                "warm": [SMALL],
                "small": [SMALL] * small_runs,
                "large": [LARGE] * bytes_runs,
                "long": [SMALL] * len(long_replies),
                "joined": [SMALL] * (1 if long_replies else 0),
            },
        )
        with FakeProviders() as fake:
            progress("direct LiteLLM calls")
            direct = asyncio.run(direct_ttft(fake.base_url, SMALL, ttft_runs))
            direct_large = asyncio.run(direct_ttft(fake.base_url, LARGE, bytes_runs))
            progress("copying the project for the app")
            port = free_port()
            env = app_environment(
                port,
                database_url,
                {
                    **fake.env(),
                    "LLM_FIRST_TOKEN_TIMEOUT": "30",
                    "LLM_CHUNK_GAP_TIMEOUT": "30",
                    "LLM_TOTAL_TIMEOUT": "600",
                },
            )
            project = isolated_copy(tmp / "project")
            progress(f"starting the app on port {port}")
            with running_app(env, port, tmp / "app.log", cwd=project) as url, sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS
                )
                try:
                    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
                    context.set_default_timeout(30_000)
                    context.add_init_script(WS_HOOK_JS)
                    page = context.new_page()
                    counter = FrameCounter(page)
                    sign_in(page)
                    one_reply(page, counter, ids["warm"][0], SMALL)  # warm the app's first call
                    small, large = [], []
                    # Interleave the cases so drift in the machine's load hits both alike.
                    for i in range(small_runs):
                        small.append(one_reply(page, counter, ids["small"][i], SMALL))
                        if i < bytes_runs:
                            large.append(one_reply(page, counter, ids["large"][i], LARGE))
                    long = [
                        one_reply(page, counter, ids["long"][i], SMALL, tokens)
                        for i, tokens in enumerate(long_replies)
                    ]
                    joined = None
                    if long_replies:
                        other = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
                        other.set_default_timeout(30_000)
                        joiner = other.new_page()
                        joiner_counter = FrameCounter(joiner)
                        sign_in(joiner)
                        joined = joiner_reply(page, joiner, joiner_counter, ids["joined"][0], long_replies[0])
                finally:
                    browser.close()
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for name, results in (("small", small), ("large", large)):
                (keep / f"frames-{name}.json").write_text(
                    json.dumps(
                        [
                            [p if isinstance(p, str) else p.decode("utf-8", "replace") for p in r["payloads"]]
                            for r in results
                        ],
                        indent=1,
                    )
                )
    finally:
        if keep is not None and (tmp / "app.log").exists():
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp / "app.log", keep / "app.log")
        shutil.rmtree(tmp, ignore_errors=True)

    bpt_small = median([r["bytes_per_token"] for r in small[:bytes_runs]])
    bpt_large = median([r["bytes_per_token"] for r in large])

    def ttfts(results: list[dict[str, Any]], key: str = "ttft_ms") -> list[float]:
        return [r[key] for r in results if r[key] is not None]

    app_ttft, ttft_large = ttfts(small[:ttft_runs]), ttfts(large)
    return {
        "joined_mid_reply": joined
        and {
            **joined,
            "tokens": long_replies[0],
            "ratio": joined["bytes"] / joined["text_bytes"],
            "within_goal": joined["bytes"] / joined["text_bytes"] <= GOAL_LONG_RATIO,
        },
        "long_replies": {
            str(tokens): {
                "bytes": r["bytes"],
                "frames": r["frames"],
                "text_bytes": len(reply_text(tokens).encode()),
                "ratio": r["bytes_per_text_byte"],
                "within_goal": r["bytes_per_text_byte"] <= GOAL_LONG_RATIO,
                "complete_after_text_ms": r["complete_after_text_ms"],
            }
            for tokens, r in zip(long_replies, long, strict=True)
        },
        "tokens_per_reply": TOKENS,
        "complete_after_text_ms": median(ttfts(small, "complete_after_text_ms")) if small else None,
        "bytes_per_token": {
            "10": bpt_small,
            "1000": bpt_large,
            "ratio_1000_over_10": bpt_large / bpt_small,
            "goal_ratio": GOAL_RATIO,
            "within_goal": bpt_large / bpt_small <= GOAL_RATIO,
        },
        "bytes_per_reply": {
            "10": [r["bytes"] for r in small[:bytes_runs]],
            "1000": [r["bytes"] for r in large],
        },
        "frames_per_reply": {
            "10": [r["frames"] for r in small[:bytes_runs]],
            "1000": [r["frames"] for r in large],
        },
        "ttft_ms": {
            "direct_litellm": median(direct["reused"]),
            "app": median(app_ttft),
            "ratio_app_over_direct": median(app_ttft) / median(direct["reused"]),
            "difference_ms": median(app_ttft) - median(direct["reused"]),
            "direct_litellm_new_connection": median(direct["new"]),
            "app_first_frame": median(ttfts(small[:ttft_runs], "ttft_frame_ms")),
            "with_1000_earlier_messages": {
                "direct_litellm": median(direct_large["reused"]),
                "app": median(ttft_large),
                "direct_litellm_new_connection": median(direct_large["new"]),
                "app_first_frame": median(ttfts(large, "ttft_frame_ms")),
            },
            "runs": {
                "direct_litellm": direct,
                "app": app_ttft,
                "direct_litellm_1000": direct_large,
                "app_1000": ttft_large,
            },
            "app_first_frame_runs": {
                "10": ttfts(small[:ttft_runs], "ttft_frame_ms"),
                "1000": ttfts(large, "ttft_frame_ms"),
            },
        },
        "per_var_bytes_one_reply": {
            "10": breakdown(small[0]["payloads"]),
            "1000": breakdown(large[0]["payloads"]),
        },
    }


def report(r: dict[str, Any]) -> str:
    b, t = r["bytes_per_token"], r["ttft_ms"]
    big = t["with_1000_earlier_messages"]
    lines = [
        f"bytes per token, {SMALL} earlier messages:    {b['10']:9.1f}",
        f"bytes per token, {LARGE} earlier messages:  {b['1000']:9.1f}",
        f"ratio {LARGE}/{SMALL}:                           {b['ratio_1000_over_10']:9.3f}  "
        f"(goal <= {GOAL_RATIO}: {'met' if b['within_goal'] else 'NOT MET'})",
        f"time to first token, direct LiteLLM:   {t['direct_litellm']:6.0f} ms  "
        f"(pooled connection, like the app; {t['direct_litellm_new_connection']:.0f} ms on a new one)",
        f"time to first token, through the app:  {t['app']:6.0f} ms",
        f"ratio app/direct:                      {t['ratio_app_over_direct']:9.1f}  "
        f"({t['difference_ms']:+.0f} ms)",
        "",
        f"Medians of {len(r['bytes_per_reply']['10'])} replies per chat size (bytes) and "
        f"{len(t['runs']['app'])} replies (time), {TOKENS}-token replies of {MODEL} from the fake provider.",
        f"App time to first token: {t['app_first_frame']:.0f} ms until its frame reaches the page, "
        f"{t['app']:.0f} ms until it is rendered.",
        f"With {LARGE} earlier messages: direct {big['direct_litellm']:.0f} ms "
        f"({big['direct_litellm_new_connection']:.0f} ms on a new connection), app {big['app']:.0f} ms "
        f"(frame reaches the page at {big['app_first_frame']:.0f} ms).",
        "",
        f"Long replies ({1 / DELAY:.0f} tokens a second), websocket bytes received ÷ the reply's own text:",
        *(
            f"  {int(tokens):6,} tokens: {v['bytes']:10,} B for {v['text_bytes']:8,} B of text in "
            f"{v['frames']:5,} frames: {v['ratio']:6.2f}x  (goal <= {GOAL_LONG_RATIO:g}: "
            f"{'met' if v['within_goal'] else 'NOT MET'})"
            for tokens, v in r["long_replies"].items()
        ),
        "The reply shown complete (Send back) after the provider's last token (the page's time from the "
        "first token to the end, less the provider's own): "
        + ", ".join(
            f"{v['complete_after_text_ms']:.0f} ms at {int(tokens):,} tokens"
            for tokens, v in r["long_replies"].items()
            if v["complete_after_text_ms"] is not None
        )
        + (
            f"; {r['complete_after_text_ms']:.0f} ms at {TOKENS} tokens (median)."
            if r.get("complete_after_text_ms") is not None
            else "."
        ),
        *(
            [
                f"  a viewer joining a {j['tokens']:,}-token reply after token {j['joined_at']:,}: "
                f"{j['bytes']:,} B for the {j['text_bytes']:,} B of text still to come in {j['frames']:,} "
                f"frames: {j['ratio']:.2f}x  (goal <= {GOAL_LONG_RATIO:g}: "
                f"{'met' if j['within_goal'] else 'NOT MET'})"
            ]
            if (j := r.get("joined_mid_reply"))
            else []
        ),
        "",
        "State vars the server sent during one reply (payload bytes of the JSON values, sends):",
    ]
    for case in ("10", "1000"):
        lines.append(f"  {case} earlier messages:")
        for var, v in r["per_var_bytes_one_reply"][case].items():
            lines.append(f"    {var:32s} {v['bytes']:9d} B  x{v['sends']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--bytes-runs", type=int, default=3, help="replies per chat size for bytes/token")
    parser.add_argument("--ttft-runs", type=int, default=5, help="replies for time to first token")
    parser.add_argument("--keep", type=Path, help="save the received frames and the app log here")
    parser.add_argument(
        "--long",
        default=",".join(map(str, LONG_REPLIES)),
        help="tokens of the long replies measured against their text (empty: none)",
    )
    args = parser.parse_args()
    long_replies = tuple(int(n) for n in args.long.split(",") if n.strip())
    result = run(args.bytes_runs, args.ttft_runs, args.keep, long_replies)
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
