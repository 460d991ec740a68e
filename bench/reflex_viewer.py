"""A browser tab viewing a page of the running app, without the browser: one websocket, no rendering.

Load benchmarks need 10-50 tabs following a chat at once; Chromium tabs cost too much memory and CPU
on the client side for that, which would skew what is measured on the server. `Viewer` speaks Reflex
0.10's own websocket protocol (Socket.IO on `/_event`, read from `reflex_base/.templates/web/utils/
state.js` and `reflex/app.py` `EventNamespace`) the way `state.js` does on a page load:

- Engine.IO v4 over a plain websocket, `/_event/?EIO=4&transport=websocket&token=<tab token>`, with
  the session cookie, the page's Origin (checked against the app's CORS origins; the server also
  builds `router.url` from it) and the Reflex version as subprotocol, like the browser's handshake.
  The tab token is a fresh UUID per viewer (the browser keeps one per tab in sessionStorage); a
  `new_token` answer (the token was taken) replaces it.
- The hydrate event rides in the Socket.IO CONNECT packet of namespace `/_event`:
  `40/_event,{"event": {"name": "reflex___state____state.hydrate_and_load", "router_data": ...}}`.
  The server sends the state, then runs the page's on_load handlers itself (`on_load_internal`,
  then e.g. `ChatState.load_chat`, then `set_is_hydrated(True)`); in 0.10.1 it does not send them
  back for the client to call (reflex_base/event/processor: only `_`-named events go to the client). Any event the server does ask for whose name does not start with
  `_` is still sent back, as `state.js` would; `_`-prefixed ones are client-only effects
  (`_call_function`, `_redirect`, ...) and are only recorded.
- The browser also sends the hashes of its compiled initial state (so the first answer leaves out
  vars still at their defaults) and the state schema hash. A viewer has neither, so its first
  answer is the full state; everything after it (the deltas a streamed reply causes) is the same.
- Server messages are `42/_event,["event", {"delta": {state: {var_rx_state_: value}}, "events": [...]}]`
  (StateUpdate; empty fields are left out, `final` is no longer sent). The server pings with `2`,
  the client answers `3`.

The protocol is spoken directly over aiohttp rather than through python-socketio's client, so that
`bytes_received` counts exactly the websocket payloads the page gets and each viewer stays one socket
and one reader task.

Run `.venv/bin/python bench/reflex_viewer.py` for a demo against the real app and the fake providers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable
from importlib.metadata import version
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp

if TYPE_CHECKING:
    import httpx

NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
HYDRATE = f"{ROOT_STATE}.hydrate_and_load"
# The id of the toast Reflex's default backend exception handler sends when a handler raised.
BACKEND_ERROR = '"backend_error"'
SUFFIX = "_rx_state_"  # the frontend's name of every state var: <name>_rx_state_
# The dynamic segment of this app's routes (chat_app/pages), which React Router adds to the query.
ROUTE_PARAMS = {"chat": "chat_id", "share": "token", "invite": "token"}


class Viewer:
    """One tab: connects, loads a page, then records every delta the server pushes to it."""

    def __init__(self, base_url: str, cookies: dict[str, str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies = dict(cookies)
        self.token = str(uuid.uuid4())
        self.deltas: list[tuple[float, dict]] = []
        self.bytes_received = 0
        self.on_delta: Callable[[float, dict], None] | None = None
        # Client-only events the server asked for (`_redirect`, `_call_function`, ...), not run.
        self.client_events: list[dict] = []
        # The reply in flight's text as the page's live.js would hold it, and each piece of text
        # the server sent for it (arrival time, piece), from its `liveText.*` scripts.
        self.live_text = ""
        self.live_pieces: list[tuple[float, str]] = []
        # The merged state as the page holds it: full state name -> {frontend var name: value}.
        self.state: dict[str, dict[str, Any]] = {}
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._router_data: dict[str, Any] = {}
        self._connected = asyncio.Event()  # the namespace CONNECT was acknowledged
        self._hydrated = asyncio.Event()
        self._closed = False
        # Why the connection ended, when the server ended it or a packet (or on_delta) failed.
        self.error: BaseException | None = None

    # ------------------------------------------------------------------ public

    async def open(self, path: str, timeout: float = 60) -> None:
        """Connect (sending the session cookie in the websocket handshake, as the browser does) and
        load the page at `path` (e.g. "/chat/<uuid>"): the same events the browser sends on page load
        (hydrate, then the page's on_load handler), so the server starts following the chat for it.

        Returns once the page is hydrated (its on_load handlers have run). Raises RuntimeError when
        the server refuses the connection, redirects the page elsewhere (e.g. to /login), or an
        on_load handler raised (its error toast arrived).
        """
        if self.connected:
            raise RuntimeError("this viewer is already open; close() it first")
        self._closed = False
        self.deltas.clear()
        self.state.clear()
        self.client_events.clear()
        self.bytes_received = 0
        self._connected.clear()
        self._hydrated.clear()
        self.error = None
        self._router_data = _router_data(path)
        base = urlsplit(self.base_url)
        scheme = "wss" if base.scheme == "https" else "ws"
        url = f"{scheme}://{base.netloc}{NAMESPACE}/?" + urlencode(
            {"EIO": "4", "transport": "websocket", "token": self.token}
        )
        headers = {"Origin": f"{base.scheme}://{base.netloc}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        try:
            self._ws = await self._http.ws_connect(
                url,
                headers=headers,
                protocols=(version("reflex"),),
                max_msg_size=0,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5),
            )
            opening = await asyncio.wait_for(self._ws.receive(), timeout)
            self._count(opening)
            if opening.type is not aiohttp.WSMsgType.TEXT or not opening.data.startswith("0"):
                raise RuntimeError(f"no Engine.IO handshake: {opening.data!r}")
            self._reader = asyncio.create_task(self._read(), name=f"viewer-{self.token}")
            boot = {"name": HYDRATE, "router_data": self._router_data}
            await self._ws.send_str(f"40{NAMESPACE}," + json.dumps({"event": boot}))
            await self._wait(self._connected, "connect acknowledgement", timeout)
            await self._wait(self._hydrated, "hydrated page", timeout)
        except BaseException:
            await self.close()
            raise
        if (failure := self._load_failure()) is not None:
            await self.close()
            raise RuntimeError(failure)

    async def close(self) -> None:
        """Leave the page: disconnect the namespace, close the websocket. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(Exception):
                await self._ws.send_str(f"41{NAMESPACE},")
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._http is not None:
            await self._http.close()

    def var(self, name: str, default: Any = KeyError) -> Any:
        """The latest value of a state var by its short name (e.g. "live_tail", "live_id", "messages"),
        found in any substate of the merged deltas.

        Several states may have a var of that name (ChatState and PickerState both have `model_type`);
        the deepest state wins, or name the state: "picker_state.model_type". A var never sent is
        `default`, or KeyError without one.
        """
        state_part, _, short = name.rpartition(".")
        key = short + SUFFIX
        for state_name in sorted(self.state, key=lambda s: s.count("."), reverse=True):
            if state_part and not state_name.endswith("____" + state_part):
                continue
            values = self.state[state_name]
            if key in values:
                return values[key]
            if short in values:  # vars not named by the frontend's convention
                return values[short]
        if default is KeyError:
            raise KeyError(name)
        return default

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed and not self._closed

    def _load_failure(self) -> str | None:
        """Why the page did not load as a browser would show it, if it did not.

        A browser would move on (redirect) or show an error toast; a viewer staying there would
        measure nothing. The toast of a failed on_load handler may trail the hydrated flag by a few
        ms (it is sent after the state lock is released), so for a chat page the opened chat is
        checked too: it is set before the page counts as hydrated.
        """
        for event in self.client_events:
            payload = event.get("payload") or {}
            if event.get("name") == "_redirect":
                return f"the page redirected to {payload.get('path')!r}"
            if any(BACKEND_ERROR in value for value in payload.values() if isinstance(value, str)):
                return "loading the page failed on the server (Reflex's backend error toast); see its log"
        chat_id = self._router_data.get("query", {}).get("chat_id")
        if chat_id and self.var("chat_state.chat_id", None) != chat_id:
            return (
                f"the chat did not open (not_found={self.var('not_found', None)}, "
                f"no_access={self.var('no_access', None)}); see the app's log"
            )
        return None

    # ------------------------------------------------------------------ protocol

    def _count(self, message: aiohttp.WSMessage) -> None:
        if message.type is aiohttp.WSMsgType.TEXT:
            self.bytes_received += len(message.data.encode("utf-8"))
        elif message.type is aiohttp.WSMsgType.BINARY:
            self.bytes_received += len(message.data)

    async def _wait(self, flag: asyncio.Event, what: str, timeout: float) -> None:
        """Wait for `flag`, but not past the end of the connection."""
        assert self._reader is not None
        waiter = asyncio.ensure_future(flag.wait())
        try:
            await asyncio.wait({waiter, self._reader}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not flag.is_set():
            raise self.error or TimeoutError(f"no {what} within {timeout} s")

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                received = time.time()
                self._count(message)
                if message.type is aiohttp.WSMsgType.TEXT:
                    await self._packet(message.data, received)
                if self.error is not None:
                    break
        except Exception as exc:  # a malformed packet or a failing on_delta: end the tab visibly
            self.error = exc
        finally:
            self.error = self.error or ConnectionError("the websocket closed")
            await self._ws.close()

    async def _packet(self, data: str, received: float) -> None:
        """One Engine.IO packet: 2 ping, 4 message (carrying a Socket.IO packet), 1 close."""
        if data == "2":
            assert self._ws is not None
            await self._ws.send_str("3")
            return
        if data.startswith("1"):
            self.error = ConnectionError("the server closed the connection")
            return
        if not data.startswith("4"):
            return
        kind, body = data[1], data[2:]
        if body.startswith(NAMESPACE):
            body = body[len(NAMESPACE) :].removeprefix(",")
        elif body.startswith("/"):
            return  # another namespace
        if kind == "0":  # CONNECT acknowledged
            self._connected.set()
        elif kind == "4":  # CONNECT_ERROR
            self.error = RuntimeError(f"the server refused the connection: {body}")
        elif kind == "1":  # DISCONNECT
            self.error = ConnectionError("the server disconnected the namespace")
        elif kind == "2":  # EVENT: [name, data], maybe preceded by an ack id
            name, *args = json.loads(body.lstrip("0123456789"))
            await self._event(name, args[0] if args else None, received)

    async def _event(self, name: str, data: Any, received: float) -> None:
        if name == "new_token" and isinstance(data, str):
            self.token = data  # the server gave this tab another token; it is used on reconnect
            return
        if name != "event" or not isinstance(data, dict):
            return  # e.g. state_mismatch (never sent: the viewer sends no schema hash), pong
        delta = data.get("delta")
        if delta:
            for state_name, values in delta.items():
                self.state.setdefault(state_name, {}).update(values)
            self.deltas.append((received, delta))
            if self.on_delta is not None:
                self.on_delta(received, delta)
            if self.state.get(ROOT_STATE, {}).get("is_hydrated" + SUFFIX):
                self._hydrated.set()
        for event in data.get("events") or []:
            if event.get("name") == "_call_script":
                self._live_text_script(str((event.get("payload") or {}).get("javascript_code", "")), received)
            if str(event.get("name", "")).startswith("_"):
                self.client_events.append(event)
            else:  # a server event the page must call, with its own router data, as state.js does
                await self._emit({**event, "router_data": event.get("router_data") or self._router_data})

    def _live_text_script(self, code: str, received: float) -> None:
        """What assets/live.js does with the server's `liveText.append/reset/keep` calls."""
        call = LIVE_TEXT_CALL.fullmatch(code)
        if call is None:
            return
        kind, offset, argument = call.groups()
        if kind == "append" and int(offset) <= len(self.live_text):
            piece = json.loads(argument)
            self.live_text = self.live_text[: int(offset)] + piece
            self.live_pieces.append((received, piece))
        elif kind == "reset":
            self.live_text = json.loads(argument)
            self.live_pieces.append((received, self.live_text))
        elif kind == "keep":
            self.live_text = ""
        if self.on_delta is not None:
            self.on_delta(received, {})

    async def _emit(self, event: dict) -> None:
        assert self._ws is not None
        await self._ws.send_str(f"42{NAMESPACE}," + json.dumps(["event", event]))


LIVE_TEXT_CALL = re.compile(
    r"window\.liveText\?\.(append|reset|keep|forget)\(refs(?:, (\d+))?(?:, (.*))?\)", re.S
)


def _router_data(path: str) -> dict[str, Any]:
    """What state.js's withRouterData sends: pathname, asPath, and the query with the route params."""
    parts = urlsplit(path)
    pathname = parts.path or "/"
    as_path = (
        pathname
        + (f"?{parts.query}" if parts.query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )
    query = dict(parse_qsl(parts.query))
    segments = pathname.strip("/").split("/")
    if len(segments) == 2 and segments[0] in ROUTE_PARAMS:
        query[ROUTE_PARAMS[segments[0]]] = segments[1]
    router_data: dict[str, Any] = {"pathname": pathname, "asPath": as_path}
    if query:
        router_data["query"] = query
    return router_data


# --------------------------------------------------------------------------- demo


def main() -> None:
    """Start the fake providers and the app, follow streamed replies with Viewers, print figures."""
    import shutil
    import signal
    import statistics
    import sys
    import tempfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.fakes.providers import FakeProviders
    from tests.support.app_server import app_environment, free_port, isolated_copy, running_app

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the app
    tmp = Path(tempfile.mkdtemp(prefix="reflex-viewer-"))
    try:
        with FakeProviders() as fake:
            port = free_port()
            env = app_environment(
                port,
                f"sqlite:///{tmp / 'app.db'}",
                {**fake.env(), "LLM_FIRST_TOKEN_TIMEOUT": "30", "LLM_CHUNK_GAP_TIMEOUT": "30"},
            )
            project = isolated_copy(tmp / "project")
            print(f"starting the app on port {port} (log: {tmp / 'app.log'})", file=sys.stderr, flush=True)
            with running_app(env, port, tmp / "app.log", cwd=project) as url:
                results = asyncio.run(_demo(url))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    cold, warm = results
    print(f"deltas received:        {warm['deltas']}")
    print(f"bytes received:         {warm['bytes']:,} ({warm['bytes_reply']:,} during the reply)")
    print(f"text growth steps:      {warm['steps']} (the live text grew in that many deltas)")
    print(f"tokens seen live:       {len(warm['latencies_ms'])} of {warm['tokens']}")

    def latency(result: dict[str, Any]) -> str:
        lat = result["latencies_ms"]
        median = statistics.median(lat) if lat else float("nan")
        p95 = statistics.quantiles(lat, n=20, method="inclusive")[18] if len(lat) > 1 else float("nan")
        return f"median {median:.1f} ms, p95 {p95:.1f} ms, tok1 {result['first_ms'] or float('nan'):.1f} ms"

    print(f"delta arrival - stamp:  {latency(warm)}")
    print(f"  first reply of the app (cold, not counted above): {latency(cold)}")
    print(f"client-only events:     {warm['client_events']}")
    if warm["steps"] < 3:
        raise SystemExit("FAIL: the viewer did not see the reply grow in several steps")


async def _demo(url: str) -> list[dict[str, Any]]:
    """Two replies, each in a new chat followed by a new Viewer: the first one warms the app up."""
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post(
            "/api/auth/register", json={"email": "viewer@example.com", "password": "correct horse battery"}
        )
        r.raise_for_status()
        return [await _one_reply(http, url) for _ in range(2)]


async def _one_reply(http: httpx.AsyncClient, url: str, tokens: int = 100) -> dict[str, Any]:
    """Open a new chat in a Viewer, post a stamped message and follow the reply to its end."""
    stamp = re.compile(r"tok(\d+)@(\d+\.\d{3})")
    r = await http.post("/api/chats", json={"model_id": "openai/gpt-4o"})
    r.raise_for_status()
    chat_id = r.json()["id"]

    viewer = Viewer(url, dict(http.cookies.items()))
    first_seen: dict[int, float] = {}  # token number -> arrival time minus its stamp, in ms
    lengths: list[int] = []

    def on_delta(received: float, delta: dict) -> None:
        text = viewer.live_text
        if text and (not lengths or len(text) > lengths[-1]):
            lengths.append(len(text))
        for number, sent in stamp.findall(text):
            first_seen.setdefault(int(number), (received - float(sent)) * 1000)

    viewer.on_delta = on_delta
    try:
        await viewer.open(f"/chat/{chat_id}")
        opened_bytes = viewer.bytes_received
        r = await http.post(
            f"/api/chats/{chat_id}/messages",
            json={"content": f"hello [[tokens={tokens}]] [[delay=0.02]] [[stamp]]"},
        )
        r.raise_for_status()
        reply_id = r.json()["reply"]["id"]

        def done() -> bool:
            return not viewer.var("live_id") and any(
                m["id"] == reply_id and m["status"] == "complete" for m in viewer.var("recent")
            )

        deadline = time.monotonic() + 60
        while not done():
            if time.monotonic() > deadline or not viewer.connected:
                raise RuntimeError(
                    f"the reply did not complete in the viewer: live_id={viewer.var('live_id')!r}"
                )
            await asyncio.sleep(0.05)
    finally:
        await viewer.close()
    return {
        "deltas": len(viewer.deltas),
        "bytes": viewer.bytes_received,
        "bytes_reply": viewer.bytes_received - opened_bytes,
        "steps": len(lengths),
        "latencies_ms": list(first_seen.values()),
        "tokens": tokens,
        "first_ms": first_seen.get(1),
        "client_events": [e.get("name") for e in viewer.client_events],
    }


if __name__ == "__main__":
    main()
