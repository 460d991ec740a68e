"""Chat completions for programs holding a personal API token (OpenAI's protocol, api/openai_compat.py):
the catalog, keys, budgets and costs of a reply in the app, through the same LiteLLM path
(llm.stream_reply), and, when asked, the exchange kept as a chat of the person's.

A request is read and checked (`read_request`), planned in a transaction (`plan`: the model, whose
key pays, the person's budget, which counts the call in their minute and holds one of their places
in flight), then run (`start`) in a task of its own. That task records what the call cost (on the
saved reply, or as a spend record) before it says the call has ended, and does so however the
program goes away: a program that disconnects mid-stream stops the call upstream and is charged
for what was sent and what came, counted with the model's tokenizer, as Stop is in the app.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from chat_app.catalog import CatalogModel
from chat_app.db import session_scope
from chat_app.models import MessageStatus, SpendRecord, User, utcnow
from chat_app.services import accounts, budgets, catalog, exchanges, keys, llm, metrics, titles
from chat_app.services.errors import Invalid, NotFound
from chat_app.services.litellm_loader import load_litellm

log = logging.getLogger(__name__)

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
# OpenAI's sampling options taken, with their ranges (None: any whole number).
SAMPLING: dict[str, tuple[float, float] | None] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
    "seed": None,
}
MOST_STOPS = 4
MOST_MODEL_ID = 200
TEXT_ONLY = "This server takes text turns only: send each message's content as text (or text parts)."


@dataclass(frozen=True)
class CompletionRequest:
    """What a program asked for, checked."""

    model_id: str
    messages: list[dict[str, str]]  # {"role", "content"}: text turns, in order
    stream: bool = False
    include_usage: bool = False  # stream_options.include_usage: a last chunk with the usage
    max_tokens: int | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    save: bool = False  # keep the exchange as a chat of the person's (our own field)


@dataclass(frozen=True)
class Call:
    """A planned call: allowed by the person's budget, paid by a known key."""

    person_id: uuid.UUID
    model: CatalogModel
    request: CompletionRequest
    budget: budgets.ApiCall
    own_key: str | None = field(repr=False)
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass(frozen=True)
class Ended:
    """The call's end: why the model stopped, the tokens the provider reported (0: not reported),
    and the chat it was kept as."""

    finish_reason: str
    input_tokens: int
    output_tokens: int
    chat_id: str | None


Event = llm.TextDelta | Ended


# ----- reading the request ------------------------------------------------------------------------


def read_request(body: dict[str, Any]) -> CompletionRequest:
    """A chat completion request as OpenAI's clients send it, or Invalid saying what is wrong.

    Fields that would change the answer's shape (tools, several choices, JSON modes, log
    probabilities) are refused, never ignored; others this server has no use for (`user`,
    `metadata`, …) are ignored, as OpenAI-compatible servers do.
    """
    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id.strip() or len(model_id) > MOST_MODEL_ID:
        raise Invalid("Name the model in `model`: one of the ids GET /v1/models lists.", code="invalid_model")
    for name in ("tools", "functions"):
        if body.get(name):
            raise Invalid(f"`{name}` are not supported here: models answer in text.", code="unsupported")
    if body.get("n") not in (None, 1):
        raise Invalid("One choice per request: leave out `n`, or send 1.", code="unsupported")
    if body.get("logprobs"):
        raise Invalid("Log probabilities are not available here: leave out `logprobs`.", code="unsupported")
    response_format = body.get("response_format")
    if response_format is not None and response_format != {"type": "text"}:
        raise Invalid("Answers are plain text here: leave out `response_format`.", code="unsupported")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise Invalid("Send `stream_options` as an object.")
    return CompletionRequest(
        model_id=model_id.strip(),
        messages=_messages(body.get("messages")),
        stream=_flag(body, "stream"),
        include_usage=_flag(options or {}, "include_usage"),
        max_tokens=_max_tokens(body),
        sampling=_sampling(body),
        save=_flag(body, "save"),
    )


def _flag(fields: dict[str, Any], name: str) -> bool:
    value = fields.get(name)
    if value is not None and not isinstance(value, bool):
        raise Invalid(f"Send `{name}` as true or false.")
    return bool(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _messages(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise Invalid("Send the conversation in `messages`: a list of {role, content}, oldest first.")
    messages = []
    for number, message in enumerate(raw, start=1):
        if not isinstance(message, dict):
            raise Invalid(f"Message {number} is not an object with `role` and `content`.")
        role = message.get("role")
        if role not in ROLES:
            raise Invalid(
                f"Message {number} has the role {role!r}; use system, developer, user or assistant "
                "(tools are not supported here).",
                code="unsupported" if role in ("tool", "function") else "invalid",
            )
        if message.get("tool_calls") or message.get("function_call"):
            raise Invalid(f"Message {number} calls tools, which are not supported here.", code="unsupported")
        messages.append({"role": ROLES[role], "content": _text_of(message.get("content"), number)})
    return messages


def _text_of(content: Any, number: int) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise Invalid(f"Message {number} has no text: send its `content` as a string.")
    texts = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise Invalid(f"Message {number}: {TEXT_ONLY}", code="unsupported")
        texts.append(part["text"])
    return "\n".join(texts)


def _max_tokens(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):  # OpenAI's newer name first
        value = body.get(name)
        if value is None:
            continue
        if not _whole(value) or value < 1:
            raise Invalid(f"Send `{name}` as a whole number of at least 1.")
        return value
    return None


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    taken: dict[str, Any] = {}
    for name, bounds in SAMPLING.items():
        value = body.get(name)
        if value is None:
            continue
        if bounds is None:
            if not _whole(value):
                raise Invalid(f"Send `{name}` as a whole number.")
        elif (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or not bounds[0] <= value <= bounds[1]
        ):
            raise Invalid(f"Send `{name}` as a number from {bounds[0]:g} to {bounds[1]:g}.")
        taken[name] = value
    stop = body.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
            raise Invalid("Send `stop` as a string or a list of strings.")
        if len(stops) > MOST_STOPS:
            raise Invalid(f"Send at most {MOST_STOPS} `stop` sequences.")
        taken["stop"] = stops
    return taken


# ----- planning -----------------------------------------------------------------------------------


def usable_models(person: User, *, session: Session) -> list[dict[str, Any]]:
    """The catalog's text models the person can use now (with their own keys), as the catalog
    describes them."""
    listed = catalog.list_models(session=session, type="text", reader=person)
    return [model for model in listed if model["available"]]


def plan(person: User, request: CompletionRequest, *, session: Session) -> Call:
    """The call, once the model is one the person can use and their budget allows it (counted in
    their minute, holding a place in flight until it ends); NotFound, Invalid or LimitReached
    otherwise, with nothing counted."""
    model = catalog.resolve_model(request.model_id, session=session)
    if model is None or model.type != "text":
        raise NotFound(
            f"The model `{request.model_id}` does not exist or is not a text model: GET /v1/models "
            "lists the ones you can use.",
            code="model_not_found",
        )
    own_keys = frozenset(keys.own_key_providers(person.id, session=session))
    reason = catalog.unavailable_reason(model, session=session, own_keys=own_keys)
    if reason:
        raise NotFound(f"{model.name} is unavailable. {reason}", code="model_not_available")
    budget = budgets.check_before_api_call(person, model, session=session)
    own_key = keys.own_key(person.id, model.provider, session=session) if budget.own_key else None
    return Call(person.id, model, request, budget, own_key)


# ----- running ------------------------------------------------------------------------------------

# The calls in flight in this process (held so the loop does not lose them mid-call).
_running: set[Running] = set()


class Running:
    """A call in flight, run by a task of its own. Its events are read once; a reader that leaves
    while the provider still streams stops the call."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self._queue: asyncio.Queue[Event | llm.ProviderError | None] = asyncio.Queue()
        self._streaming = True  # until the provider's stream is over; then nothing may cancel the task
        self._refusal: llm.ProviderError | None = None  # why the server stopped the call, if it did
        self._task = asyncio.get_running_loop().create_task(self._produce())
        _running.add(self)
        self._task.add_done_callback(lambda _task: _running.discard(self))

    def refuse(self, refusal: llm.ProviderError) -> None:
        """Stop the call for the server's own reason: its reader is told why, and what was written
        so far is recorded (and paid for) as stopped."""
        if self._streaming:
            self._refusal = refusal
            self._task.cancel()

    async def events(self) -> AsyncGenerator[Event, None]:
        """Text deltas, then one Ended; ProviderError when the provider failed."""
        try:
            while (item := await self._queue.get()) is not None:
                if isinstance(item, llm.ProviderError):
                    raise item
                yield item
        finally:
            if self._streaming:  # the reader went away: stop the call upstream
                self._task.cancel()

    async def whole(self) -> tuple[str, Ended]:
        """The reply's text and its end, once complete."""
        parts: list[str] = []
        async for event in self.events():
            if isinstance(event, llm.TextDelta):
                parts.append(event.text)
            else:
                return "".join(parts), event
        raise llm.ProviderError("The reply ended without finishing.")  # _produce always ends or fails

    async def _produce(self) -> None:
        call, put = self.call, self._queue.put_nowait
        parts: list[str] = []
        usage: tuple[int | None, int | None] = (None, None)
        finish, error, status = "stop", None, MessageStatus.complete
        began = time.monotonic()
        try:
            async for event in llm.stream_reply(
                call.model,
                call.request.messages,
                deadlines=llm.configured_deadlines(),
                own_key=call.own_key,
                max_tokens=call.request.max_tokens,
                sampling=call.request.sampling,
            ):
                if isinstance(event, llm.TextDelta):
                    parts.append(event.text)
                    put(event)
                elif isinstance(event, llm.Finished):
                    finish, usage = event.finish_reason, (event.input_tokens, event.output_tokens)
        except asyncio.CancelledError:  # the program went away; what was asked is still billed
            status = MessageStatus.stopped
        except llm.ProviderError as exc:
            status, error = MessageStatus.error, exc
            metrics.PROVIDER_ERRORS.labels(call.model.provider, exc.kind).inc()
        except Exception:
            log.exception("API call %s failed", call.id)
            status = MessageStatus.error
            error = llm.ProviderError("Something went wrong while writing this reply. Retry it.")
        self._streaming = False
        text = "".join(parts)
        reported = usage != (None, None)
        if not reported and (status is MessageStatus.stopped or (status is MessageStatus.error and text)):
            usage = await asyncio.to_thread(_estimated_usage, call, text)  # billed though never reported
        reply = exchanges.SavedReply(
            text=text,
            status=status.value,
            error=str(error) if error else None,
            model_id=call.model.id,
            input_tokens=usage[0],
            output_tokens=usage[1],
            cost=llm.reply_cost(call.model, *usage),
            paid_with_own_key=call.budget.own_key,
        )
        saved: exchanges.Saved | None = None
        try:
            saved = await asyncio.to_thread(_record, call, reply)
        except Exception:
            log.exception("could not record what API call %s cost", call.id)
        _log_end(call, reply, time.monotonic() - began)
        if saved is not None and status is MessageStatus.complete:
            titles.start(saved.reply_id)  # a new chat is named from its first exchange, as in the app
        if error is not None or self._refusal is not None:
            put(error or self._refusal)
        elif status is MessageStatus.complete:
            input_tokens, output_tokens = (usage[0] or 0, usage[1] or 0) if reported else (0, 0)
            put(Ended(finish, input_tokens, output_tokens, saved.chat_id if saved else None))
        put(None)


def start(call: Call) -> Running:
    """Run a planned call now (on the event loop that serves the request)."""
    return Running(call)


async def stop_calls_of_disabled_accounts() -> int:
    """Calls in flight for people an administrator has since disabled stop (keeping what was
    written), within a reaper's round: a stream already running is not left to go on. How many."""
    people = {running.call.person_id for running in _running}
    if not people:
        return 0
    disabled = await asyncio.to_thread(_disabled_among, people)
    stopped = [running for running in list(_running) if running.call.person_id in disabled]
    for running in stopped:
        running.refuse(llm.ProviderError(accounts.DISABLED, "disabled"))
    return len(stopped)


def _disabled_among(people: set[uuid.UUID]) -> set[uuid.UUID]:
    with session_scope() as session:
        found = session.execute(
            sa.select(col(User.id)).where(col(User.id).in_(people), col(User.disabled).is_(True))
        ).scalars()
        return set(found)


def _estimated_usage(call: Call, text: str) -> tuple[int, int]:
    """The tokens of what was sent and what came back, counted with the model's tokenizer."""
    name = call.model.litellm_model or call.model.id
    counter = load_litellm().token_counter
    return counter(model=name, messages=call.request.messages), counter(model=name, text=text) if text else 0


def _record(call: Call, reply: exchanges.SavedReply) -> exchanges.Saved | None:
    """What the call cost, kept: on the saved reply (when the exchange is kept as a chat) or as a
    spend record, so the monthly allowance counts it either way; and the call's place in flight
    given back."""
    try:
        with session_scope() as session:
            if call.request.save:
                return exchanges.save_exchange(call.person_id, call.request.messages, reply, session=session)
            if reply.cost:
                session.add(
                    SpendRecord(
                        user_id=call.person_id,
                        amount=reply.cost,
                        paid_with_own_key=reply.paid_with_own_key,
                        spent_at=utcnow(),
                    )
                )
            return None
    finally:
        budgets.end_api_call(call.budget)


def _log_end(call: Call, reply: exchanges.SavedReply, took: float) -> None:
    """The call's end as one log line (ids, names and numbers only), and its tokens in the metrics."""
    for direction, tokens in zip(("input", "output"), (reply.input_tokens, reply.output_tokens), strict=True):
        if tokens:
            metrics.TOKENS.labels(call.model.provider, direction).inc(tokens)
    log.info(
        "API call finished",
        extra={
            "reply_id": call.id,
            "provider": call.model.provider,
            "model": call.model.id,
            "status": reply.status,
            "duration_ms": round(took * 1000, 1),
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
        },
    )
