"""The server-owned reply job.

A reply belongs to the server, keyed by the assistant message id, not to the tab that
asked: it streams from the provider, saves its text as it goes, publishes it on the
chat's live channel and obeys stop from any view.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from chat_app.db import session_scope
from chat_app.models import ChatSession, Message, MessageStatus, utcnow
from chat_app.services import chats, generation, keys, llm, media
from chat_app.services.catalog import resolve_model
from chat_app.services.live import channel

log = logging.getLogger(__name__)

SAVE_EVERY = 0.5  # seconds between saves of a growing reply


@dataclass
class ReplyJob:
    chat_id: str
    message_id: str
    text: str = ""
    kind: str = "text"  # what the model makes: text | image | video
    progress: generation.Progress | None = None  # the latest of an image/video generation
    task: asyncio.Task | None = field(default=None, repr=False)


_jobs: dict[str, ReplyJob] = {}  # by assistant message id
_by_chat: dict[str, ReplyJob] = {}  # one reply in flight per chat; followers ask this often


def running_in(chat_id: str) -> ReplyJob | None:
    return _by_chat.get(chat_id)


def is_running(message_id: str) -> bool:
    return message_id in _jobs


def start_reply(
    chat_id: uuid.UUID | str,
    message_id: uuid.UUID | str,
    *,
    deadlines: llm.Deadlines | None = None,
    engine: sa.Engine | None = None,
) -> ReplyJob:
    """Start producing a saved, pending reply. The caller must have committed it.

    Without `deadlines`, the operator's configured ones apply.
    """
    job = ReplyJob(chat_id=str(chat_id), message_id=str(message_id))
    _jobs[job.message_id] = job
    _by_chat[job.chat_id] = job
    job.task = asyncio.get_running_loop().create_task(_run(job, deadlines or llm.configured_deadlines(), engine))
    return job


def stop_reply(message_id: str) -> bool:
    """Cancel the upstream request; the partial reply is kept with status stopped."""
    job = _jobs.get(message_id)
    if job is None or job.task is None or job.task.done():
        return False
    job.task.cancel()
    return True


async def _run(job: ReplyJob, deadlines: llm.Deadlines, engine: sa.Engine | None) -> None:
    status, error = MessageStatus.complete, None
    usage: tuple[int | None, int | None] = (None, None)
    model = None
    made: list[media.Stored] = []
    try:
        model, prompt, own_key = await asyncio.to_thread(_begin, job, engine)
        job.kind = model.type
        channel.publish(job.chat_id, {"type": "start", "message_id": job.message_id, "kind": model.type})
        if model.type == "text":
            usage = await _stream_text(job, model, prompt, deadlines, own_key, engine)
        else:
            made = await generation.generate(
                model, prompt, own_key=own_key, on_progress=lambda p: _publish_progress(job, p)
            )
    except asyncio.CancelledError:
        status = MessageStatus.stopped
    except llm.ProviderError as exc:
        status, error = MessageStatus.error, str(exc)
    except Exception:  # noqa: BLE001 - a reply must end in a saved state, whatever failed
        log.exception("reply %s failed", job.message_id)
        status, error = MessageStatus.error, "Something went wrong while writing this reply. Retry it."
    finally:
        try:
            if model is None:
                cost = None
            elif model.type == "text":
                cost = llm.reply_cost(model, *usage)
            else:
                cost = generation.cost(model, made)
            await asyncio.shield(asyncio.to_thread(_finish, job, status, error, usage, cost, engine, made))
        except Exception:  # noqa: BLE001
            log.exception("could not save the end of reply %s", job.message_id)
            for stored in made:
                media.forget_files(stored)
        finally:
            _jobs.pop(job.message_id, None)
            if _by_chat.get(job.chat_id) is job:
                del _by_chat[job.chat_id]
            channel.publish(
                job.chat_id,
                {"type": "end", "message_id": job.message_id, "status": status.value, "error": error},
            )


async def _stream_text(job, model, prompt, deadlines, own_key, engine) -> tuple[int | None, int | None]:
    usage: tuple[int | None, int | None] = (None, None)
    last_save = time.monotonic()
    async for event in llm.stream_reply(model, prompt, deadlines=deadlines, own_key=own_key):
        if isinstance(event, llm.TextDelta):
            job.text += event.text
            channel.publish(job.chat_id, {"type": "delta", "message_id": job.message_id, "text": event.text})
            if time.monotonic() - last_save >= SAVE_EVERY:
                last_save = time.monotonic()
                await asyncio.to_thread(_save_partial, job, engine)
        else:
            usage = (event.input_tokens, event.output_tokens)
    return usage


def _publish_progress(job: ReplyJob, progress: generation.Progress) -> None:
    channel.publish(job.chat_id, {
        "type": "progress", "message_id": job.message_id, "kind": job.kind, "status": progress.status,
        "percent": progress.percent, "elapsed": round(progress.elapsed, 1),
    })
    job.progress = progress


def _begin(job: ReplyJob, engine: sa.Engine | None):
    with session_scope(engine) as session:
        reply = session.get(Message, uuid.UUID(job.message_id))
        model = resolve_model(reply.model_id, session=session)
        if model is None:
            raise llm.ProviderError("This reply's model is no longer in the catalog.")
        if model.type == "text":
            prompt = chats.prompt_for(reply, session=session)
        else:
            prompt = chats.generation_prompt(reply, session=session)
        own_key = None
        if model.key_env is None:  # an operator's endpoint has its own key, never a person's
            # Whoever asked pays with their own key; otherwise a shared chat's owner does.
            owner_id = session.get(ChatSession, reply.session_id).user_id
            own_key = (keys.key_for(reply.author_id, model.provider, session=session)
                       or keys.key_for(owner_id, model.provider, session=session))
        reply.status = MessageStatus.streaming.value
        reply.updated_at = utcnow()
        session.add(reply)
        return model, prompt, own_key


def _save_partial(job: ReplyJob, engine: sa.Engine | None) -> None:
    with session_scope(engine) as session:
        session.execute(
            sa.update(Message)
            .where(Message.id == uuid.UUID(job.message_id))
            .values(content=job.text, updated_at=utcnow())
        )


def _finish(job, status, error, usage, cost, engine, made) -> None:
    with session_scope(engine) as session:
        now = utcnow()
        reply = session.get(Message, uuid.UUID(job.message_id))
        for stored in made:
            media.record(stored, owner_id=reply.author_id if reply else None, session=session,
                         chat_id=uuid.UUID(job.chat_id), message_id=uuid.UUID(job.message_id))
        session.execute(
            sa.update(Message)
            .where(Message.id == uuid.UUID(job.message_id))
            .values(
                content=job.text, status=status.value, error=error,
                input_tokens=usage[0], output_tokens=usage[1], cost=cost, updated_at=now,
            )
        )
        session.execute(
            sa.update(ChatSession).where(ChatSession.id == uuid.UUID(job.chat_id)).values(updated_at=now)
        )


def mark_orphans(chat_id: uuid.UUID, *, session, stale_after: float | None = None) -> None:
    """Replies left in flight by a server that stopped are ended as errors, text kept.

    A live reply saves at least once per allowed silence, so older in-flight rows are dead.
    """
    if stale_after is None:
        limits = llm.configured_deadlines()
        stale_after = max(limits.first_token, limits.chunk_gap) + 15
    cutoff = utcnow() - timedelta(seconds=stale_after)
    for message in session.exec(
        sa.select(Message).where(
            Message.session_id == chat_id,
            Message.status.in_(chats.IN_FLIGHT),
            Message.updated_at < cutoff,
        )
    ).scalars():
        if not is_running(str(message.id)):
            message.status = MessageStatus.error.value
            message.error = "This reply was interrupted before it finished. Retry it."
            session.add(message)
