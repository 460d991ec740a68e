"""Chats and their messages."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from chat_app.catalog import CatalogModel
from chat_app.models import MAX_TITLE_LENGTH, Chat, MediaFile, Message, MessageStatus, User, utcnow
from chat_app.services import access, budgets, context_fit, keys, media, workers
from chat_app.services.catalog import default_model_for, longest_reply, resolve_model, unavailable_reason
from chat_app.services.errors import Invalid
from chat_app.services.views import MessageView, message_view
from chat_app.settings import get_settings

IN_FLIGHT = (MessageStatus.pending.value, MessageStatus.streaming.value)
REPLY_IN_FLIGHT = "A reply is still being written. Wait for it or stop it first."


def new_share_token() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


def create_chat(owner: User, *, session: Session, model_id: str | None = None) -> Chat:
    if model_id and resolve_model(model_id, session=session) is None:
        raise Invalid("That model is not in the catalog.")
    budgets.count_request(owner)
    chat = Chat(
        user_id=owner.id,
        model_id=model_id or default_model_for(owner, session=session),
        share_token=new_share_token(),
    )
    session.add(chat)
    session.flush()
    return chat


def list_chats(user: User, *, session: Session, limit: int = 200) -> list[Chat]:
    """The user's own chats, most recently active first (index ix_chat_sessions_user_recent)."""
    return list(
        session.exec(
            select(Chat).where(Chat.user_id == user.id).order_by(col(Chat.updated_at).desc()).limit(limit)
        )
    )


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise Invalid("Give the chat a title.")
    if len(title) > MAX_TITLE_LENGTH:
        raise Invalid(f"Keep the title under {MAX_TITLE_LENGTH} characters.")
    return title


def title_of(chat_id: uuid.UUID, *, session: Session) -> str:
    """A chat's title as it is now (the first message names a new chat)."""
    return session.exec(select(Chat.title).where(Chat.id == chat_id)).one()


def rename_chat(actor: User, chat_id: uuid.UUID | str, title: str, *, session: Session) -> Chat:
    chat, _ = access.authorize(actor, chat_id, "rename", session=session)
    chat.title = _clean_title(title)
    session.add(chat)
    return chat


def delete_chat(actor: User, chat_id: uuid.UUID | str, *, session: Session) -> None:
    chat, _ = access.authorize(actor, chat_id, "delete", session=session)
    budgets.keep_spend_of_chat(chat.id, session=session)
    media.delete_files_after_commit(session, media.keys_of_chat(chat.id, session=session))
    session.delete(chat)


def set_chat_model(actor: User, chat_id: uuid.UUID | str, model_id: str, *, session: Session) -> Chat:
    chat, _ = access.authorize(actor, chat_id, "set_model", session=session)
    if resolve_model(model_id, session=session) is None:
        raise Invalid("That model is not in the catalog.")
    chat.model_id = model_id
    actor.default_model_id = model_id
    session.add(chat)
    session.add(actor)
    return chat


def set_default_model(actor: User, model_id: str, *, session: Session) -> None:
    if resolve_model(model_id, session=session) is None:
        raise Invalid("That model is not in the catalog.")
    actor.default_model_id = model_id
    session.add(actor)


def messages_of(chat_id: uuid.UUID, *, session: Session) -> list[Message]:
    """A chat's messages in order (unique index on session_id, seq)."""
    return list(session.exec(select(Message).where(Message.chat_id == chat_id).order_by(col(Message.seq))))


def latest_messages(chat_id: uuid.UUID, *, session: Session, limit: int) -> list[Message]:
    """The chat's last `limit` messages, in order: what a view opens with, however long the chat."""
    newest = session.exec(
        select(Message).where(Message.chat_id == chat_id).order_by(col(Message.seq).desc()).limit(limit)
    )
    return list(reversed(list(newest)))


def messages_before(chat_id: uuid.UUID, before_seq: int, *, session: Session, limit: int) -> list[Message]:
    """Up to `limit` messages just before `before_seq`, in order: the page above what a view shows."""
    older = session.exec(
        select(Message)
        .where(Message.chat_id == chat_id, Message.seq < before_seq)
        .order_by(col(Message.seq).desc())
        .limit(limit)
    )
    return list(reversed(list(older)))


def chat_cost(chat_id: uuid.UUID, *, session: Session) -> float:
    """What the chat's replies cost so far, summed by the database."""
    total = session.exec(select(sa.func.sum(Message.cost)).where(Message.chat_id == chat_id)).one()
    return float(total or 0.0)


def messages_since(chat_id: uuid.UUID, after_seq: int, *, session: Session) -> list[Message]:
    """Messages a view has not shown yet (its last seen seq), in order."""
    return list(
        session.exec(
            select(Message)
            .where(Message.chat_id == chat_id, Message.seq > after_seq)
            .order_by(col(Message.seq))
        )
    )


def message_views(rows: list[Message], *, session: Session, link_token: str = "") -> list[MessageView]:
    """Messages as views, each with its files (one query for all of them); `link_token` when the
    reader came by a public chat's link, which its file addresses must carry."""
    files = media.media_of([m.id for m in rows], session=session)
    return [message_view(m, files.get(m.id), link_token) for m in rows]


def _next_seq(chat_id: uuid.UUID, *, session: Session) -> int:
    current = session.exec(select(sa.func.max(Message.seq)).where(Message.chat_id == chat_id)).one()
    return (current or 0) + 1


def reply_in_flight(chat_id: uuid.UUID, *, session: Session) -> Message | None:
    """The chat's reply being written, if any (at most one: a partial unique index)."""
    return session.exec(
        select(Message).where(Message.chat_id == chat_id, col(Message.status).in_(IN_FLIGHT))
    ).first()


def _usable_model(model_id: str | None, actor: User, chat: Chat, *, session: Session) -> CatalogModel:
    model = resolve_model(model_id, session=session)
    if model is None:
        raise Invalid("Choose a model for this chat.")
    reason = unavailable_reason(
        model, session=session, own_keys=keys.paying_providers(actor.id, chat.id, session=session)
    )
    if reason:
        raise Invalid(f"{model.name} is unavailable. {reason}")
    return model


# Inline video goes into the request itself; providers cap a request well below our upload limit.
MAX_INLINE_VIDEO_BYTES = 20 * 1024 * 1024


def attachment_refusal(model: CatalogModel, kinds: set[str], video_bytes: int = 0) -> str:
    """Why `model` cannot take attachments of these kinds, or "" when it can. The UI says the same."""
    return refusal_for(model.name, model.type, model.capabilities, kinds, video_bytes)


def refusal_for(name: str, model_type: str, capabilities, kinds: set[str], video_bytes: int = 0) -> str:
    if not kinds:
        return ""
    if model_type != "text":
        return f"{name} makes {model_type}s from a text prompt; it does not take attachments."
    caps = set(capabilities or ())
    if "image" in kinds and "vision" not in caps:
        return f"{name} cannot see images. Choose a model with vision to send images."
    if "video" in kinds and "video_input" not in caps:
        return f"{name} cannot watch videos. Choose a model with video input (Gemini) to send videos."
    if video_bytes > MAX_INLINE_VIDEO_BYTES:
        return f"{name} takes videos up to {MAX_INLINE_VIDEO_BYTES // (1024 * 1024)} MB in a message."
    return ""


def _check_content(content: str, max_chars: int, *, attachments: bool = False) -> str:
    content = (content or "").strip()
    if not content and not attachments:
        raise Invalid("Write a message first.")
    if len(content) > max_chars:
        raise Invalid(f"This message is {len(content):,} characters long; the limit is {max_chars:,}.")
    return content


def post_message(
    actor: User,
    chat_id: uuid.UUID | str,
    content: str,
    *,
    session: Session,
    model_id: str | None = None,
    max_chars: int | None = None,
    attachment_ids: list[str] | None = None,
) -> tuple[Message, Message]:
    """Save the user's message (with its attachments) and an empty reply to fill.

    Commit before calling any provider.
    """
    chat, role = access.authorize(actor, chat_id, "post", session=session)
    if model_id and model_id != chat.model_id:
        access.ensure(role, "set_model")  # the chat's model is its owner's choice (and key)
    files = media.pending_uploads(actor, list(attachment_ids or []), session=session)
    content = _check_content(content, max_chars or get_settings().max_message_chars, attachments=bool(files))
    model = _usable_model(model_id or chat.model_id, actor, chat, session=session)
    if model.type != "text" and not content:
        raise Invalid(f"Describe the {model.type} to generate.")
    refusal = attachment_refusal(
        model, {f.kind for f in files}, sum(f.byte_size for f in files if f.kind == "video")
    )
    if refusal:
        raise Invalid(refusal)
    if reply_in_flight(chat.id, session=session) is not None:
        raise Invalid(REPLY_IN_FLIGHT)
    own_key = budgets.check_before_reply(actor, model, session=session)
    seq = _next_seq(chat.id, session=session)
    now = utcnow()
    user_message = Message(
        chat_id=chat.id,
        seq=seq,
        role="user",
        content=content,
        author_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    reply = Message(
        chat_id=chat.id,
        seq=seq + 1,
        role="assistant",
        status=MessageStatus.pending.value,
        author_id=actor.id,
        model_id=model.id,
        paid_with_own_key=own_key,
        runner=workers.new_run(),
        created_at=now,
        updated_at=now,
    )
    if seq == 1 and chat.title == "New chat":
        chat.title = first_words(content or (files[0].original_name or "Attachment"))
    chat.model_id = model.id
    chat.updated_at = now
    session.add_all([user_message, reply, chat])
    _flush_one_reply_per_chat(session)
    for file in files:
        file.chat_id, file.message_id = chat.id, user_message.id
        session.add(file)
    return user_message, reply


def first_words(content: str) -> str:
    """A title from the start of a text: what names a chat until a model (titles.py) writes one."""
    words = " ".join(content.split())
    return words if len(words) <= 60 else words[:57].rstrip() + "…"


def restart_last_reply(
    actor: User, chat_id: uuid.UUID | str, *, session: Session, model_id: str | None = None
) -> Message:
    """Regenerate (or retry) the chat's last reply in place."""
    chat, role = access.authorize(actor, chat_id, "post", session=session)
    if model_id and model_id != chat.model_id:
        access.ensure(role, "set_model")  # as for a new message: the owner chooses the model
    last = session.exec(
        select(Message).where(Message.chat_id == chat.id).order_by(col(Message.seq).desc())
    ).first()
    if last is None or last.role != "assistant":
        raise Invalid("There is no reply to regenerate.")
    if last.status in IN_FLIGHT:
        raise Invalid(REPLY_IN_FLIGHT)
    model = _usable_model(model_id or chat.model_id, actor, chat, session=session)
    own_key = budgets.check_before_reply(actor, model, session=session)
    budgets.keep_spend_of_reply(last, session=session)
    last.model_id, last.paid_with_own_key = model.id, own_key
    # a regenerated picture replaces the old one
    media.delete(media.media_of([last.id], session=session).get(last.id, []), session=session)
    last.author_id = actor.id
    last.content = ""
    last.status = MessageStatus.pending.value
    last.error = None
    last.input_tokens = last.output_tokens = None
    last.cost = None
    last.runner = workers.new_run()
    last.updated_at = chat.updated_at = utcnow()
    session.add_all([last, chat])
    _flush_one_reply_per_chat(session)
    return last


def _flush_one_reply_per_chat(session: Session) -> None:
    """Write now, so that a send racing this one (another worker, another machine) is refused by
    the database: one reply in flight per chat, and one message per place in it."""
    try:
        session.flush()
    except IntegrityError:
        raise Invalid(REPLY_IN_FLIGHT) from None


PROMPT_PAGE = 200  # earlier messages read at a time, newest first, while the model's window has room


def prompt_for(reply: Message, model: CatalogModel, *, session: Session) -> list[dict]:
    """The conversation to send for a reply (see `fitted_prompt`), as messages."""
    return prompt_messages(fitted_prompt(reply, model, session=session))


def fitted_prompt(reply: Message, model: CatalogModel, *, session: Session) -> context_fit.Fitted:
    """The turns to send for a reply: the newest that fit the model's window (see context_fit),
    noted on the reply with what was left out; Invalid when the asking message alone is too long
    for the model."""
    budget = context_fit.budget_for(model, longest_reply(model))
    fitted = context_fit.fit(
        _turns_newest_first(reply, session=session),
        model,
        budget.for_input,
        count=_turn_count(reply, session=session),
    )
    reply.prompt_messages = len(fitted.turns)
    reply.left_out_messages, reply.left_out_files = fitted.left_out_messages, fitted.left_out_files
    return fitted


def prompt_messages(fitted: context_fit.Fitted) -> list[dict]:
    """Fitted turns as the messages sent. Attachments travel as OpenAI-style content parts;
    LiteLLM turns them into each provider's own format. Files made by image/video models are not
    sent back."""
    return [_prompt_message(turn) for turn in fitted.turns]


def _prompt_message(turn: context_fit.Turn) -> dict:
    if not turn.files:
        return {"role": turn.role, "content": turn.text}
    parts = [{"type": "text", "text": turn.text}] if turn.text else []
    return {"role": turn.role, "content": parts + [media.prompt_part(f) for f in turn.files]}


def _turns_newest_first(reply: Message, *, session: Session) -> Iterator[context_fit.Turn]:
    """The turns before the reply with text or files, read a page at a time, only as far as asked."""
    below = reply.seq
    while True:
        # Only the columns the prompt needs: a long chat's turns are read on every reply's way out.
        rows = session.execute(
            sa.select(col(Message.id), col(Message.role), col(Message.content), col(Message.seq))
            .where(col(Message.chat_id) == reply.chat_id, col(Message.seq) < below)
            .order_by(col(Message.seq).desc())
            .limit(PROMPT_PAGE)
        ).all()
        if not rows:
            return
        files = media.media_of([m.id for m in rows if m.role == "user"], session=session)
        for m in rows:
            if m.content or files.get(m.id):
                yield context_fit.Turn(m.id, m.role, m.content, files.get(m.id, []))
        below = rows[-1].seq


def _turn_count(reply: Message, *, session: Session) -> int:
    """How many turns `_turns_newest_first` would give, all read (one indexed count)."""
    with_files = sa.exists().where(col(MediaFile.message_id) == col(Message.id))
    return session.execute(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(
            col(Message.chat_id) == reply.chat_id,
            col(Message.seq) < reply.seq,
            sa.or_(col(Message.content) != "", with_files),
        )
    ).scalar_one()


def asking_message(reply: Message, *, session: Session) -> Message | None:
    """The message a reply answers: the one just before it."""
    return session.exec(
        select(Message).where(Message.chat_id == reply.chat_id, Message.seq == reply.seq - 1)
    ).first()


def generation_prompt(reply: Message, *, session: Session) -> str:
    """What an image or video model is asked for: the user's message just before the reply."""
    asked = asking_message(reply, session=session)
    if asked is None or not asked.content:
        raise Invalid("There is no prompt to generate from.")
    return asked.content
