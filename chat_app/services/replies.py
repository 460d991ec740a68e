"""The server-owned reply job.

A reply belongs to the server, keyed by the assistant message id, not to the tab that asked: it
streams from the provider on the worker that took the send, hands its growing text to the batched
writer, publishes it on the chat's live channel (coalesced) and obeys stop from any view, on any
worker. Its row names the run producing it (`Message.runner`); when that worker is gone, the
reaper of any other worker ends it as interrupted, keeping the text saved so far.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from chat_app.catalog import CatalogModel
from chat_app.db import rows_changed, session_scope
from chat_app.models import Chat, Message, MessageStatus, User, utcnow
from chat_app.services import (
    chats,
    completions,
    context_fit,
    generation,
    keys,
    llm,
    media,
    metrics,
    runtime,
    summary_calls,
    titles,
    workers,
)
from chat_app.services.batch_writer import Ending, Usage
from chat_app.services.catalog import resolve_model
from chat_app.services.errors import Invalid
from chat_app.services.litellm_loader import load_litellm
from chat_app.services.storage import delete_files, files_deleted_on_error

log = logging.getLogger(__name__)

INTERRUPTED = "This reply was interrupted before it finished. Retry it."
UNSTARTED_GRACE = 10.0  # seconds a reply of this worker may wait between its commit and its start


@dataclass(frozen=True)
class Plan:
    """What a reply needs from the database to run: its model, what it sends, whose key pays."""

    model: CatalogModel
    prompt: list[dict] | str  # the conversation (text models) or the prompt (image/video models)
    own_key: str | None = field(repr=False)
    sent: context_fit.Fitted | None = field(default=None, repr=False)  # a text model's fitted turns
    names_the_chat: bool = False  # the chat's first reply: once complete, its title is written


@dataclass
class ReplyJob:
    chat_id: str
    message_id: str
    engine: sa.Engine | None = None
    plan: Plan | None = None
    kind: str = "text"  # what the model makes: text | image | video
    _parts: list[str] = field(default_factory=list, repr=False)
    length: int = 0
    first_token_seconds: float | None = None  # from asking the model to its first text
    asked: bool = False  # the provider has been sent the prompt (and may bill for it)
    ended: bool = False  # its end is saved (a text reply's, maybe before its count of tokens)
    task: asyncio.Task | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def add(self, text: str) -> int:
        """Append text; returns the offset it starts at."""
        at = self.length
        self._parts.append(text)
        self.length += len(text)
        return at


_jobs: dict[str, ReplyJob] = {}  # this process's replies in flight, by assistant message id


def running_count() -> int:
    """Replies this process is producing now."""
    return len(_jobs)


def is_running(message_id: str) -> bool:
    """Whether this process is producing the reply (tests wait on it)."""
    return message_id in _jobs


def start_reply(
    chat_id: uuid.UUID | str,
    message_id: uuid.UUID | str,
    *,
    plan: Plan | None = None,
    deadlines: llm.Deadlines | None = None,
    engine: sa.Engine | None = None,
) -> ReplyJob:
    """Start producing a saved, pending reply. The caller must have committed it.

    A `plan` made in the transaction that saved the reply saves the job a transaction of its own.
    Without `deadlines`, the operator's configured ones apply.
    """
    runtime.current().engines.add(engine)
    job = ReplyJob(chat_id=str(chat_id), message_id=str(message_id), engine=engine, plan=plan)
    _jobs[job.message_id] = job
    job.task = asyncio.get_running_loop().create_task(_run(job, deadlines or llm.configured_deadlines()))
    return job


def _publish(chat_id: str, event: dict) -> None:
    runtime.current().channel.publish(chat_id, event)


def announce_branch(chat_id: uuid.UUID | str) -> None:
    """The chat now shows another branch: its open views move to it."""
    _publish(str(chat_id), {"type": "branch"})


def announce_access(chat_id: uuid.UUID | str) -> None:
    """Who may read the chat changed (an invitation removed or changed, the link changed, the chat
    made private): its open views, on any worker, check theirs at once."""
    _publish(str(chat_id), {"type": "access"})


async def _run(job: ReplyJob, deadlines: llm.Deadlines) -> None:
    status, error, error_kind = MessageStatus.complete, None, None
    usage: tuple[int | None, int | None] = (None, None)
    ending = _End(job)  # nothing is known of the reply until it is planned
    made: list[media.Stored] = []
    started = time.monotonic()
    try:
        plan = job.plan or await asyncio.to_thread(_plan, job)
        ending = _End(job, plan.model, plan.sent, plan.names_the_chat)
        model, prompt, own_key = plan.model, plan.prompt, plan.own_key
        job.kind = model.type
        _publish(job.chat_id, {"type": "start", "message_id": job.message_id, "kind": model.type})
        if model.type == "text":
            assert isinstance(prompt, list)  # plan_for gives a text model the conversation
            usage = await _stream_text(job, model, prompt, deadlines, own_key, ending)
        else:
            assert isinstance(prompt, str)  # and an image or video model one request
            made = await generation.generate(
                model, prompt, own_key=own_key, on_progress=lambda p: _publish_progress(job, p)
            )
    except asyncio.CancelledError:
        status = MessageStatus.stopped
    except (llm.ProviderError, Invalid) as exc:  # Invalid: a planned prompt that cannot be sent
        status, error = MessageStatus.error, str(exc)
        if isinstance(exc, llm.ProviderError):
            error_kind = exc.kind
            metrics.PROVIDER_ERRORS.labels(_provider_of(ending.model), exc.kind).inc()
    except Exception:
        log.exception("reply %s failed", job.message_id)
        status, error = MessageStatus.error, "Something went wrong while writing this reply. Retry it."
    finally:
        try:
            if job.ended:  # its text was saved whole when the provider finished it
                status, error, error_kind = MessageStatus.complete, None, None
                usage = await ending.save_count(usage)
            else:
                usage = await ending.save(status, error, usage, made)
        finally:
            # Its end was announced before this: a retry may already run the same reply anew.
            if _jobs.get(job.message_id) is job:
                del _jobs[job.message_id]
            _count_finished(job, ending.model, status, error_kind, usage, time.monotonic() - started)


@dataclass
class _End:
    """Saving a reply's end and telling its views, once: when its text is finished (a text reply,
    before the provider's count of tokens comes) or when it stops, fails or ends otherwise; then
    the count, for a reply that ended with its text."""

    job: ReplyJob
    model: CatalogModel | None = None
    sent: context_fit.Fitted | None = None
    names_the_chat: bool = False

    async def save(
        self,
        status: MessageStatus,
        error: str | None,
        usage: tuple[int | None, int | None] = (None, None),
        made: list[media.Stored] | None = None,
    ) -> tuple[int | None, int | None]:
        """Save the end (with the other replies ending now, in one batch; a generation's with its
        files, in its own transaction); returns the usage saved."""
        job, model, made = self.job, self.model, made or []
        job.ended = True
        writer = runtime.current().writer
        writer.forget(job.message_id, job.engine)
        try:
            with files_deleted_on_error(media.storage_keys(made)):
                if model is not None and made:
                    cost = generation.cost(model, made)
                    await asyncio.shield(asyncio.to_thread(_finish, job, status, error, usage, cost, made))
                else:
                    if model is not None and usage == (None, None) and _billed_unreported(job, status):
                        usage = await asyncio.to_thread(_estimated_usage, job, model, self.sent)
                    cost = (
                        llm.reply_cost(model, *usage) if model is not None and model.type == "text" else None
                    )
                    ending = Ending(job.message_id, job.chat_id, job.text, status.value, error, *usage, cost)
                    await asyncio.shield(writer.end(ending, job.engine))
        except Exception:
            log.exception("could not save the end of reply %s", job.message_id)
        finally:
            _publish(
                job.chat_id,
                {"type": "end", "message_id": job.message_id, "status": status.value, "error": error},
            )
            if self.names_the_chat and status is MessageStatus.complete:
                titles.start(job.message_id, job.engine)
            if self.sent is not None and self.sent.left_out_messages and status is MessageStatus.complete:
                summary_calls.start(job.message_id, job.engine)
        return usage

    async def save_count(self, usage: tuple[int | None, int | None]) -> tuple[int | None, int | None]:
        """The tokens of a reply saved when its text finished, and their cost: as the provider
        counted them, or counted here when it never said (the stream broke after the text, or
        was stopped)."""
        job, model = self.job, self.model
        if model is None:
            return usage
        try:
            if usage == (None, None):
                usage = await asyncio.to_thread(_estimated_usage, job, model, self.sent)
            counted = Usage(job.message_id, *usage, llm.reply_cost(model, *usage))
            await asyncio.shield(runtime.current().writer.usage(counted, job.engine))
        except Exception:
            log.exception("could not save the tokens of reply %s", job.message_id)
        _publish(job.chat_id, {"type": "usage", "message_id": job.message_id})
        return usage


def _provider_of(model: CatalogModel | None) -> str:
    return model.provider if model is not None else "unknown"


def _count_finished(
    job: ReplyJob,
    model: CatalogModel | None,
    status: MessageStatus,
    error_kind: str | None,
    usage: tuple[int | None, int | None],
    took: float,
) -> None:
    """The reply's end, in the metrics and as one log line (ids, names and numbers only)."""
    provider = _provider_of(model)
    metrics.REPLIES_FINISHED.labels(provider, job.kind, status.value).inc()
    metrics.REPLY_SECONDS.labels(provider, job.kind).observe(took)
    for direction, tokens in zip(("input", "output"), usage, strict=True):
        if tokens:
            metrics.TOKENS.labels(provider, direction).inc(tokens)
    first = job.first_token_seconds
    log.info(
        "reply finished",
        extra={
            "chat_id": job.chat_id,
            "reply_id": job.message_id,
            "provider": provider,
            "model": model.id if model is not None else None,
            "kind": job.kind,
            "status": status.value,
            "error_kind": error_kind,
            "duration_ms": round(took * 1000, 1),
            "first_token_ms": round(first * 1000, 1) if first is not None else None,
            "input_tokens": usage[0],
            "output_tokens": usage[1],
        },
    )


async def _stream_text(
    job: ReplyJob, model, prompt, deadlines, own_key, ending: _End
) -> tuple[int | None, int | None]:
    """Stream the reply's text to its views and the writer; once the provider finishes the text,
    its end is saved and shown at once (`ending`), and only its count of tokens is waited for."""
    usage: tuple[int | None, int | None] = (None, None)
    here = runtime.current()  # looked up once: what follows runs for every token
    publish, changed = here.channel.publish, here.writer.changed
    read_text = lambda: job.text  # noqa: E731 - the writer reads the text when it saves
    asked = time.monotonic()
    job.asked = True
    async for event in llm.stream_reply(model, prompt, deadlines=deadlines, own_key=own_key):
        if isinstance(event, llm.TextDelta):
            if job.first_token_seconds is None:
                job.first_token_seconds = time.monotonic() - asked
                metrics.FIRST_TOKEN_SECONDS.labels(model.provider).observe(job.first_token_seconds)
            at = job.add(event.text)
            publish(
                job.chat_id, {"type": "delta", "message_id": job.message_id, "at": at, "text": event.text}
            )
            changed(job.message_id, read_text, job.engine)
        elif isinstance(event, llm.TextDone):
            await ending.save(MessageStatus.complete, None)
        else:
            usage = (event.input_tokens, event.output_tokens)
    return usage


def _billed_unreported(job: ReplyJob, status: MessageStatus) -> bool:
    """A reply the provider will bill though it never said how much: stopped after it was asked,
    or failed after text came (usage is reported only at a stream's end). Left uncounted, Stop
    would be a way around the monthly allowance."""
    if status is MessageStatus.stopped:
        return job.asked
    return status is MessageStatus.error and job.length > 0


def _estimated_usage(job: ReplyJob, model: CatalogModel, sent: context_fit.Fitted | None) -> tuple[int, int]:
    """The tokens of what was sent and what came back, counted with the model's tokenizer."""
    name = model.litellm_model or model.id
    counter = load_litellm().token_counter
    return (
        sent.exact_tokens(name) if sent is not None else 0,
        counter(model=name, text=job.text) if job.text else 0,
    )


def _publish_progress(job: ReplyJob, progress: generation.Progress) -> None:
    _publish(
        job.chat_id,
        {
            "type": "progress",
            "message_id": job.message_id,
            "kind": job.kind,
            "status": progress.status,
            "percent": progress.percent,
            "elapsed": round(progress.elapsed, 1),
        },
    )


def plan_for(reply: Message, *, session: Session) -> Plan:
    """Read what a saved reply needs to run (in the transaction that saved it, when there is one)."""
    model = resolve_model(reply.model_id, session=session)
    if model is None:
        raise llm.ProviderError("This reply's model is no longer in the catalog.")
    sent = None
    if model.type == "text":
        sent = chats.fitted_prompt(reply, model, session=session)
        prompt: list[dict] | str = chats.prompt_messages(sent)
    else:
        prompt = chats.generation_prompt(reply, session=session)
    own_key = None
    if model.key_env is None:  # an operator's endpoint has its own key, never a person's
        own_key = keys.paying_key(reply.author_id, reply.chat_id, model.provider, session=session)
    return Plan(model, prompt, own_key, sent, names_the_chat=reply.seq == 2)


def _plan(job: ReplyJob) -> Plan:
    with session_scope(job.engine) as session:
        reply = session.get(Message, uuid.UUID(job.message_id))
        if reply is None:
            raise llm.ProviderError("This reply no longer exists.")
        return plan_for(reply, session=session)


def _finish(job: ReplyJob, status, error, usage, cost, made) -> None:
    """Save a generation's end with its files, unless it was ended elsewhere meanwhile (its worker
    was taken for gone): then the files are let go."""
    with session_scope(job.engine) as session:
        now = utcnow()
        ended = rows_changed(
            session.execute(
                sa.update(Message)
                .where(col(Message.id) == uuid.UUID(job.message_id), col(Message.status).in_(chats.IN_FLIGHT))
                .values(
                    content=job.text,
                    status=status.value,
                    error=error,
                    input_tokens=usage[0],
                    output_tokens=usage[1],
                    cost=cost,
                    updated_at=now,
                )
            )
        )
        if not ended:
            delete_files(media.storage_keys(made))
            return
        reply = session.get(Message, uuid.UUID(job.message_id))
        for stored in made:
            media.record(
                stored,
                owner_id=reply.author_id if reply else None,
                session=session,
                chat_id=uuid.UUID(job.chat_id),
                message_id=uuid.UUID(job.message_id),
            )
        session.execute(sa.update(Chat).where(col(Chat.id) == uuid.UUID(job.chat_id)).values(updated_at=now))


# ----- stop, from any view on any worker ---------------------------------------------------
async def stop_in_chat(chat_id: uuid.UUID | str, *, engine: sa.Engine | None = None) -> bool:
    """Stop the chat's reply in flight, wherever it runs; the caller has checked access.

    The upstream request is cancelled and the partial text kept (status stopped). A reply whose
    worker is gone is ended here, as stopped. False when no reply is in flight.
    """
    found = await asyncio.to_thread(_in_flight, uuid.UUID(str(chat_id)), engine)
    if found is None:
        return False
    message_id, runner = found
    if _cancel_here(message_id):
        return True
    here = runtime.current()
    owner = workers.worker_of(runner or "")
    if owner and owner != workers.worker_id() and await asyncio.to_thread(here.liveness.alive, {owner}):
        await here.channel.send_control({"type": "stop", "message_id": message_id})
        return True
    ended = await asyncio.to_thread(_end_dead, message_id, runner, MessageStatus.stopped, None, engine)
    if ended:
        _publish(str(chat_id), {"type": "end", "message_id": message_id, "status": "stopped", "error": None})
    return True


def _in_flight(chat_id: uuid.UUID, engine: sa.Engine | None) -> tuple[str, str | None] | None:
    with session_scope(engine) as session:
        reply = chats.reply_in_flight(chat_id, session=session)
        return (str(reply.id), reply.runner) if reply is not None else None


def _cancel_here(message_id: str) -> bool:
    job = _jobs.get(message_id)
    if job is None or job.task is None or job.task.done():
        return False
    job.task.cancel()
    return True


def on_control(command: dict) -> None:
    """A command from another worker: stop the reply if it runs here."""
    if command.get("type") == "stop":
        _cancel_here(str(command.get("message_id", "")))


async def stop_all_here(timeout: float = 10.0) -> None:
    """This worker is asked to stop: every reply it runs ends saved, as stopped, before it exits."""
    tasks = [job.task for job in _jobs.values() if job.task is not None and not job.task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)


# ----- replies whose worker is gone -------------------------------------------------------------
async def reap_forever(every: float) -> None:
    """Each worker looks for replies whose worker is gone, and for its own replies and API calls
    whose asker was disabled (in the databases its replies use)."""
    here = runtime.current()
    while True:
        for engine in list(here.engines):
            try:
                for chat_id, message_id in await asyncio.to_thread(reap, here.liveness, engine=engine):
                    _publish(
                        chat_id,
                        {"type": "end", "message_id": message_id, "status": "error", "error": INTERRUPTED},
                    )
                if _jobs:  # only replies this worker runs are its to stop
                    for message_id in await asyncio.to_thread(replies_of_disabled_accounts, engine=engine):
                        _cancel_here(message_id)
            except Exception:
                log.exception("could not look for interrupted replies")
        try:
            await completions.stop_calls_of_disabled_accounts()  # API calls use the app's database
        except Exception:
            log.exception("could not look for API calls of disabled accounts")
        await asyncio.sleep(every)


def replies_of_disabled_accounts(*, engine: sa.Engine | None = None) -> list[str]:
    """Replies in flight asked for by an account an administrator has since disabled: they stop
    (keeping their text) within a reaper's round, on whichever worker runs them."""
    with session_scope(engine) as session:
        found = session.execute(
            sa.select(col(Message.id))
            .join(User, col(User.id) == col(Message.author_id))
            .where(col(Message.status).in_(chats.IN_FLIGHT), col(User.disabled).is_(True))
        ).scalars()
        return [str(message_id) for message_id in found]


def reap(
    liveness: workers.Liveness, *, engine: sa.Engine | None = None, stale_after: float | None = None
) -> list[tuple[str, str]]:
    """End as interrupted every reply in flight whose worker is gone; returns (chat id, message id)s.

    Rows from before runners were recorded count as gone once silent for longer than a reply may be.
    """
    if stale_after is None:
        limits = llm.configured_deadlines()
        stale_after = max(limits.first_token, limits.chunk_gap) + 15
    now = utcnow()
    with session_scope(engine) as session:
        rows = session.execute(
            sa.select(
                col(Message.id), col(Message.chat_id), col(Message.runner), col(Message.updated_at)
            ).where(col(Message.status).in_(chats.IN_FLIGHT))
        ).all()
    if not rows:
        return []
    me = workers.worker_id()
    owners = {workers.worker_of(r.runner) for r in rows if r.runner} - {me}
    alive = liveness.alive(owners) | {me}
    dead = []
    for row in rows:
        if row.runner is None:
            gone = row.updated_at < now - timedelta(seconds=stale_after)
        elif workers.worker_of(row.runner) == me:
            # ours, but no job: it never started (or its start was lost)
            gone = str(row.id) not in _jobs and row.updated_at < now - timedelta(seconds=UNSTARTED_GRACE)
        else:
            gone = workers.worker_of(row.runner) not in alive
        if gone:
            dead.append(row)
    ended = []
    for row in dead:
        if _end_dead(str(row.id), row.runner, MessageStatus.error, INTERRUPTED, engine):
            ended.append((str(row.chat_id), str(row.id)))
    return ended


def _end_dead(
    message_id: str, runner: str | None, status: MessageStatus, error: str | None, engine: sa.Engine | None
) -> bool:
    """End a reply nobody produces any more, keeping its saved text; False if it ended meanwhile."""
    with session_scope(engine) as session:
        condition = col(Message.runner).is_(None) if runner is None else col(Message.runner) == runner
        return bool(
            rows_changed(
                session.execute(
                    sa.update(Message)
                    .where(
                        col(Message.id) == uuid.UUID(message_id),
                        col(Message.status).in_(chats.IN_FLIGHT),
                        condition,
                    )
                    .values(status=status.value, error=error, updated_at=utcnow())
                )
            )
        )
