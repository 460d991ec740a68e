"""Calls the app makes to a cheap text model beside a chat's replies (its title, a summary of its
earlier messages): which model, who pays, and the call itself.

Such a call is paid as the reply it follows was (the asker's own key first) and counts against the
asker's monthly allowance like any reply: a person past it gets no call, and the chat does without.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlmodel import Session

from chat_app.catalog import CatalogModel
from chat_app.models import SpendRecord, User, utcnow
from chat_app.services import budgets, catalog, keys, llm

log = logging.getLogger(__name__)

C = TypeVar("C", bound="Call")

_running: set[asyncio.Task] = set()  # held so the loop does not lose them mid-call


def in_background(work: Coroutine[Any, Any, object]) -> None:
    """Run a side call after the reply that asked for it, without holding the reply up."""
    task = asyncio.get_running_loop().create_task(work)
    _running.add(task)
    task.add_done_callback(_running.discard)


def running() -> int:
    """Side calls of this process not finished yet."""
    return len(_running)


async def all_finished() -> None:
    """Once the side calls running now have ended (tests wait on it)."""
    while _running:
        await asyncio.gather(*_running)


@dataclass(frozen=True)
class Payer:
    """The model a side call uses, and whose key and allowance pay for it."""

    model: CatalogModel
    asker_id: uuid.UUID
    paid_with_own_key: bool
    own_key: str | None = field(repr=False)


def payer_for(chosen: str | None, asker: User, chat_id: uuid.UUID, *, session: Session) -> Payer | None:
    """The call's model and payer: `chosen` (a catalog id) when the asker can use it now, or with
    None the cheapest text model they can; None when there is none, or the asker is past their
    monthly allowance and has no key of their own for it."""
    own_keys = keys.paying_providers(asker.id, chat_id, session=session)
    if chosen:
        model = catalog.resolve_model(chosen, session=session)
        candidates = [model] if model is not None and model.type == "text" else []
    else:
        candidates = catalog.text_models(session=session)
    usable = catalog.usable_by_price(candidates, session=session, own_keys=own_keys)
    if not usable:
        return None
    model = usable[0]
    own = budgets.pays_with_own_key(asker, model, session=session)
    if not own and not budgets.within_monthly_allowance(asker, session=session):
        return None
    own_key = (
        keys.paying_key(asker.id, chat_id, model.provider, session=session) if model.key_env is None else None
    )
    return Payer(model, asker.id, own, own_key)


@dataclass(frozen=True)
class Answer:
    text: str
    cost: float | None


class Call(Protocol):
    """What a side call was planned to be, from the database, before it is made."""

    @property
    def chat_id(self) -> uuid.UUID: ...
    @property
    def payer(self) -> Payer: ...
    @property
    def prompt(self) -> list[dict]: ...


async def made(
    planned: Callable[[], C | None], *, max_tokens: int, deadlines: llm.Deadlines, what: str
) -> tuple[C, Answer] | None:
    """The call `planned` (run in a thread: it reads the database) makes, and the model's whole
    answer with its cost; None when there is nothing to do, or the provider failed (logged, with
    `what` the call was for: the chat does without it)."""
    call = await asyncio.to_thread(planned)
    if call is None:
        return None
    parts: list[str] = []
    usage: tuple[int | None, int | None] = (None, None)
    try:
        async for event in llm.stream_reply(
            call.payer.model,
            call.prompt,
            deadlines=deadlines,
            own_key=call.payer.own_key,
            max_tokens=max_tokens,
        ):
            if isinstance(event, llm.TextDelta):
                parts.append(event.text)
            elif isinstance(event, llm.Finished):
                usage = (event.input_tokens, event.output_tokens)
    except llm.ProviderError as exc:
        log.info("no %s for chat %s: %s", what, call.chat_id, exc, extra={"error_kind": exc.kind})
        return None
    return call, Answer("".join(parts), llm.reply_cost(call.payer.model, *usage))


def record_spend(payer: Payer, cost: float | None, *, session: Session) -> None:
    """What the call cost, in the asker's spend (their monthly allowance counts it)."""
    if cost:
        session.add(
            SpendRecord(
                user_id=payer.asker_id,
                amount=cost,
                paid_with_own_key=payer.paid_with_own_key,
                spent_at=utcnow(),
            )
        )
