"""Chats and their messages."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from chat_app.catalog import CatalogModel
from chat_app.models import MAX_TITLE_LENGTH, Chat, ConversationSummary, Message, MessageStatus, User, utcnow
from chat_app.services import access, branches, budgets, catalog, context_fit, keys, media, summaries, workers
from chat_app.services.catalog import default_model_for, longest_reply, resolve_model, unavailable_reason
from chat_app.services.errors import Invalid, NotFound
from chat_app.services.views import MessageView, SummaryView, message_view, summary_view
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


MOST_PINNED = 50  # pinned chats a person may have: the top of the sidebar stays short


def pinned_chats(user: User, *, session: Session) -> list[Chat]:
    """The user's pinned chats, the last pinned first."""
    return list(
        session.exec(
            select(Chat)
            .where(Chat.user_id == user.id, col(Chat.pinned_at).is_not(None))
            .order_by(col(Chat.pinned_at).desc())
            .limit(MOST_PINNED)
        )
    )


def recent_chats(
    user: User, *, session: Session, limit: int, after: str = "", pinned_too: bool = False
) -> tuple[list[Chat], str]:
    """A page of the user's chats that are not pinned (`pinned_too`: all of them), most recently
    active first, from past `after` (the cursor the page before gave); and the cursor of the next
    page ("" at the end). Index ix_chat_sessions_user_recent."""
    query = select(Chat).where(Chat.user_id == user.id)
    if not pinned_too:
        query = query.where(col(Chat.pinned_at).is_(None))
    if after:
        at, chat_id = _cursor(after)
        # Bound with the columns' own types, so each database compares them as it stores them.
        columns = Chat.__table__.c  # pyright: ignore[reportAttributeAccessIssue]
        since = sa.tuple_(sa.literal(at, columns.updated_at.type), sa.literal(chat_id, columns.id.type))
        query = query.where(sa.tuple_(col(Chat.updated_at), col(Chat.id)) < since)
    rows = list(
        session.exec(query.order_by(col(Chat.updated_at).desc(), col(Chat.id).desc()).limit(limit + 1))
    )
    if len(rows) <= limit:
        return rows, ""
    last = rows[limit - 1]
    return rows[:limit], f"{last.updated_at.isoformat()}|{last.id}"


def _cursor(after: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, chat_id = after.split("|")
        return datetime.fromisoformat(at), uuid.UUID(chat_id)
    except ValueError:
        raise Invalid("That page of chats cannot be found; reload the page.") from None


def pin_chat(actor: User, chat_id: uuid.UUID | str, pinned: bool, *, session: Session) -> Chat:
    """Pin the chat to the top of its owner's sidebar, or unpin it."""
    chat, _ = access.authorize(actor, chat_id, "pin", session=session)
    if pinned and chat.pinned_at is None:
        already = session.exec(
            select(sa.func.count()).where(Chat.user_id == actor.id, col(Chat.pinned_at).is_not(None))
        ).one()
        if already >= MOST_PINNED:
            raise Invalid(f"You can pin at most {MOST_PINNED} chats; unpin one first.")
        chat.pinned_at = utcnow()
    elif not pinned:
        chat.pinned_at = None
    session.add(chat)
    return chat


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
    """All of a chat's messages, every branch, in the order they were written."""
    return list(session.exec(select(Message).where(Message.chat_id == chat_id).order_by(col(Message.seq))))


def branch_of(chat: Chat, *, session: Session, limit: int | None = None) -> list[Message]:
    """The last `limit` messages (None: all) of the chat's selected branch, in order: what a view
    opens with (one page of it), however long the chat."""
    return branches.path_up(branches.leaf_of(chat, session=session), session=session, limit=limit)


def branch_above(message_id: uuid.UUID, *, session: Session, limit: int | None) -> list[Message]:
    """Up to `limit` messages (None: all) of a branch, ending with `message_id`, in order: the page
    above what a view shows, or the page a view of another branch opens with."""
    return branches.path_up(message_id, session=session, limit=limit)


def branch_through(chat: Chat, message: Message, *, session: Session) -> tuple[uuid.UUID, int]:
    """A branch that holds `message` (the chat's selected one when it does, else the newest below
    the message), and how many messages of it, from its end, reach up to the message."""
    leaf_id = branches.leaf_of(chat, session=session)
    leaf = session.get(Message, leaf_id) if leaf_id else None
    if leaf is not None and leaf.depth >= message.depth:
        reach = leaf.depth - message.depth + 1
        above = branches.path_up(leaf.id, session=session, limit=reach)
        if above and above[0].id == message.id:
            return leaf.id, reach
    leaf_id = branches.latest_leaf_under(message, session=session)
    leaf = session.get(Message, leaf_id)
    assert leaf is not None  # just found, in this transaction
    return leaf_id, leaf.depth - message.depth + 1


def message_in(chat_id: uuid.UUID, message_id: uuid.UUID | str, *, session: Session) -> Message:
    """A message of this chat, or NotFound (an id from elsewhere tells nothing)."""
    try:
        message = session.get(Message, uuid.UUID(str(message_id)))
    except ValueError:
        message = None
    if message is None or message.chat_id != chat_id:
        raise NotFound("That message is not in this chat.")
    return message


def chat_cost(chat_id: uuid.UUID, *, session: Session) -> float:
    """What the chat's replies cost so far, summed by the database."""
    total = session.exec(select(sa.func.sum(Message.cost)).where(Message.chat_id == chat_id)).one()
    return float(total or 0.0)


def counts_of(
    chat_id: uuid.UUID, message_ids: list[str], *, session: Session
) -> dict[str, tuple[int | None, int | None, float | None]]:
    """The tokens and cost of some of the chat's messages (input, output, cost), by id."""
    ids = [uuid.UUID(i) for i in message_ids]
    rows = session.execute(
        sa.select(
            col(Message.id), col(Message.input_tokens), col(Message.output_tokens), col(Message.cost)
        ).where(col(Message.chat_id) == chat_id, col(Message.id).in_(ids))
    ).all()
    return {str(r.id): (r.input_tokens, r.output_tokens, r.cost) for r in rows}


def branch_since(
    chat: Chat, tip: Message | None, *, session: Session, leaf: uuid.UUID | None = None
) -> branches.Since:
    """What the chat's selected branch (or the one ending at `leaf`) gained below a view's last
    shown message (`tip`)."""
    return branches.since(
        leaf or branches.leaf_of(chat, session=session),
        tip.id if tip else None,
        tip.seq if tip else 0,
        session=session,
    )


def message_views(rows: list[Message], *, session: Session, link_token: str = "") -> list[MessageView]:
    """Messages as views, each with its files (one query for all of them); `link_token` when the
    reader came by a public chat's link, which its file addresses must carry."""
    files = media.media_of([m.id for m in rows], session=session)
    places = branches.places(rows, session=session)
    names = catalog.model_names({m.model_id for m in rows if m.model_id}, session=session)
    return [
        message_view(
            m, files.get(m.id), link_token, places.get(m.id, (1, 1)), names.get(m.model_id or "", "")
        )
        for m in rows
    ]


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
    """Save the user's message (with its attachments) at the end of the chat's selected branch,
    and an empty reply to fill.

    Commit before calling any provider.
    """
    chat, role = access.authorize(actor, chat_id, "post", session=session)
    leaf = branches.leaf_of(chat, session=session)
    parent = session.get(Message, leaf) if leaf else None
    return _ask(actor, chat, role, parent, content, session, model_id, max_chars, attachment_ids)


def edit_message(
    actor: User,
    chat_id: uuid.UUID | str,
    message_id: uuid.UUID | str,
    content: str,
    *,
    session: Session,
    model_id: str | None = None,
) -> tuple[Message, Message]:
    """A new version of one of the actor's own messages, beside the old one, and a reply to it:
    the chat now shows that branch. The old version and everything after it stay."""
    chat, role = access.authorize(actor, chat_id, "post", session=session)
    original = message_in(chat.id, message_id, session=session)
    if original.role != "user" or original.author_id != actor.id:
        raise Invalid("You can edit only your own messages.")
    parent = session.get(Message, original.parent_id) if original.parent_id else None
    return _ask(actor, chat, role, parent, content, session, model_id)


def _ask(
    actor: User,
    chat: Chat,
    role: access.Role,
    parent: Message | None,
    content: str,
    session: Session,
    model_id: str | None = None,
    max_chars: int | None = None,
    attachment_ids: list[str] | None = None,
) -> tuple[Message, Message]:
    """A message below `parent` and its pending reply, which ends the branch the chat shows."""
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
    branches.attach(user_message, parent)
    reply = _pending_reply(chat, user_message, seq + 1, actor, model, own_key, now)
    if seq == 1 and chat.title == "New chat":
        chat.title = first_words(content or (files[0].original_name or "Attachment"))
    chat.model_id = model.id
    session.add_all([user_message, reply, chat])
    _flush_one_reply_per_chat(session)
    for file in files:
        file.chat_id, file.message_id = chat.id, user_message.id
        session.add(file)
    return user_message, reply


def _pending_reply(
    chat: Chat, asked: Message, seq: int, actor: User, model: CatalogModel, own_key: bool, now
) -> Message:
    """An empty reply to `asked`, to fill: the chat's selected branch now ends with it."""
    reply = Message(
        chat_id=chat.id,
        seq=seq,
        role="assistant",
        status=MessageStatus.pending.value,
        author_id=actor.id,
        model_id=model.id,
        paid_with_own_key=own_key,
        runner=workers.new_run(),
        created_at=now,
        updated_at=now,
    )
    branches.attach(reply, asked)
    chat.current_leaf_id, chat.updated_at = reply.id, now
    return reply


def first_words(content: str) -> str:
    """A title from the start of a text: what names a chat until a model (titles.py) writes one."""
    words = " ".join(content.split())
    return words if len(words) <= 60 else words[:57].rstrip() + "…"


def regenerate_reply(
    actor: User, chat_id: uuid.UUID | str, *, session: Session, model_id: str | None = None
) -> Message:
    """A new version of the reply that ends the chat's selected branch, beside the old one. A
    reply that failed before writing anything is retried in place instead: it has nothing to keep."""
    chat, role = access.authorize(actor, chat_id, "post", session=session)
    if model_id and model_id != chat.model_id:
        access.ensure(role, "set_model")  # as for a new message: the owner chooses the model
    leaf = branches.leaf_of(chat, session=session)
    last = session.get(Message, leaf) if leaf else None
    if last is None or last.role != "assistant":
        raise Invalid("There is no reply to regenerate.")
    if last.status in IN_FLIGHT or reply_in_flight(chat.id, session=session) is not None:
        raise Invalid(REPLY_IN_FLIGHT)
    model = _usable_model(model_id or chat.model_id, actor, chat, session=session)
    own_key = budgets.check_before_reply(actor, model, session=session)
    now = utcnow()
    if _nothing_to_keep(last, session=session):
        reply = _retry_in_place(last, actor, model, own_key, session=session)
        chat.updated_at = now
    else:
        asked = session.get(Message, last.parent_id) if last.parent_id else None
        if asked is None:
            raise Invalid("There is no reply to regenerate.")
        reply = _pending_reply(chat, asked, _next_seq(chat.id, session=session), actor, model, own_key, now)
    session.add_all([reply, chat])
    _flush_one_reply_per_chat(session)
    return reply


def _nothing_to_keep(reply: Message, *, session: Session) -> bool:
    """A reply that ended without text or files (failed, or stopped before its first word)."""
    return not reply.content and not media.media_of([reply.id], session=session).get(reply.id)


def _retry_in_place(
    reply: Message, actor: User, model: CatalogModel, own_key: bool, *, session: Session
) -> Message:
    budgets.keep_spend_of_reply(reply, session=session)
    reply.model_id, reply.paid_with_own_key = model.id, own_key
    reply.author_id = actor.id
    reply.status = MessageStatus.pending.value
    reply.error = None
    reply.input_tokens = reply.output_tokens = None
    reply.cost = None
    reply.runner = workers.new_run()
    reply.updated_at = utcnow()
    return reply


def switch_branch(
    actor: User | None,
    chat_id: uuid.UUID | str,
    message_id: uuid.UUID | str,
    step: int,
    *,
    session: Session,
    link_token: str | None = None,
) -> uuid.UUID:
    """Move from a message to its previous (`step` -1) or next (+1) version: returns where the
    newest branch below that version ends. A member who may write leaves it selected for everyone;
    a reader only looks."""
    chat, role = access.authorize(actor, chat_id, "read", session=session, link_token=link_token)
    message = message_in(chat.id, message_id, session=session)
    versions = branches.siblings(message, session=session)
    place = versions.index(message.id) + step
    if step not in (-1, 1) or not 0 <= place < len(versions):
        raise Invalid("There is no other version that way.")
    if reply_in_flight(chat.id, session=session) is not None:
        raise Invalid(REPLY_IN_FLIGHT)
    chosen = session.get(Message, versions[place])
    assert chosen is not None  # read just above, in this transaction
    leaf = branches.latest_leaf_under(chosen, session=session)
    select_branch(chat, role, leaf, session=session)
    return leaf


def select_branch(chat: Chat, role: access.Role, leaf: uuid.UUID, *, session: Session) -> bool:
    """Leave the branch ending at `leaf` selected for everyone, when `role` may write in the chat
    (True); a reader only looks at it (False)."""
    if not access.can(role, "post"):
        return False
    chat.current_leaf_id = leaf
    session.add(chat)
    return True


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
    """The turns to send for a reply: the newest of its branch that fit the model's window (see
    context_fit), noted on the reply with what was left out; Invalid when the asking message alone
    is too long for the model."""
    budget = context_fit.budget_for(model, longest_reply(model)).for_input
    earlier = _BranchTurns(reply, session)
    fitted = context_fit.fit(earlier, model, budget, count=reply.depth - 1)
    cut = fitted.first_left_out
    found = summaries.summary_above(cut.id, session=session) if cut is not None else None
    if found is not None:  # fitted again, in the room the summary leaves (its end is above the cut)
        fitted = context_fit.fit(
            earlier,
            model,
            budget,
            count=reply.depth - 1,
            summary=summaries.as_turn(found),
            summarized=found.covered,
        )
    # Messages without text or files (a reply that failed) are not sent, nor missed.
    left_out = max(fitted.left_out_messages - earlier.empty, 0)
    fitted = dataclasses.replace(
        fitted, left_out_messages=left_out, summarized=min(fitted.summarized, left_out)
    )
    reply.prompt_messages = len(fitted.turns)
    reply.left_out_messages, reply.left_out_files = fitted.left_out_messages, fitted.left_out_files
    reply.summarized_messages = fitted.summarized
    reply.summary_id = found.id if found is not None and fitted.summarized else None
    return fitted


def summary_sent_with(
    actor: User | None, chat_id: str, message_id: str, *, session: Session, link_token: str = ""
) -> SummaryView:
    """The summary of earlier messages a reply's prompt was sent with, for whoever may read the chat."""
    chat, _role = access.authorize(actor, chat_id, "read", session=session, link_token=link_token)
    reply = message_in(chat.id, message_id, session=session)
    summary = session.get(ConversationSummary, reply.summary_id) if reply.summary_id else None
    if summary is None:
        raise NotFound("This reply was sent no summary of earlier messages.")
    names = catalog.model_names({summary.model_id}, session=session)
    return summary_view(summary, names.get(summary.model_id, summary.model_id))


def prompt_messages(fitted: context_fit.Fitted) -> list[dict]:
    """Fitted turns as the messages sent. Attachments travel as OpenAI-style content parts;
    LiteLLM turns them into each provider's own format. Files made by image/video models are not
    sent back."""
    sent = [_prompt_message(turn) for turn in fitted.turns]
    if fitted.summary is not None:
        sent.insert(0, {"role": "system", "content": fitted.summary.text})
    return sent


def _prompt_message(turn: context_fit.Turn) -> dict:
    if not turn.files:
        return {"role": turn.role, "content": turn.text}
    parts = [{"type": "text", "text": turn.text}] if turn.text else []
    return {"role": turn.role, "content": parts + [media.prompt_part(f) for f in turn.files]}


def turns_above(reply: Message, *, session: Session) -> Iterator[context_fit.Turn]:
    """The earlier messages a reply's prompt is made of (those with text or files), newest first,
    read a page at a time and only as far as asked."""
    return iter(_BranchTurns(reply, session))


class _BranchTurns:
    """The turns above a reply on its branch with text or files, newest first, read a page at a
    time and only as far as asked; `empty` counts the messages passed over without either.

    Iterated again (a prompt fitted a second time, around a summary), it gives what it read
    before from memory and reads on only past it."""

    def __init__(self, reply: Message, session: Session) -> None:
        self.reply, self.session, self.empty = reply, session, 0
        self._read: list[tuple[int, context_fit.Turn]] = []  # each turn, after how many empty messages
        self._above: uuid.UUID | None = reply.parent_id  # where reading goes on
        self._trailing = 0  # empty messages read after the last turn

    def __iter__(self) -> Iterator[context_fit.Turn]:
        self.empty, given = 0, 0
        while True:
            while given < len(self._read):
                skipped, turn = self._read[given]
                given += 1
                self.empty += skipped
                yield turn
            if self._above is None:
                self.empty += self._trailing
                return
            self._read_page(self._above)

    def _read_page(self, above: uuid.UUID) -> None:
        rows = branches.turns_up(above, session=self.session, limit=PROMPT_PAGE)
        self._above = rows[-1].parent_id if rows else None
        files = media.media_of([m.id for m in rows if m.role == "user"], session=self.session)
        for m in rows:
            if m.content or files.get(m.id):
                turn = context_fit.Turn(m.id, m.role, m.content, files.get(m.id, []), m.depth)
                self._read.append((self._trailing, turn))
                self._trailing = 0
            else:
                self._trailing += 1


def asking_message(reply: Message, *, session: Session) -> Message | None:
    """The message a reply answers: its parent."""
    return session.get(Message, reply.parent_id) if reply.parent_id else None


def generation_prompt(reply: Message, *, session: Session) -> str:
    """What an image or video model is asked for: the user's message just before the reply."""
    asked = asking_message(reply, session=session)
    if asked is None or not asked.content:
        raise Invalid("There is no prompt to generate from.")
    return asked.content
