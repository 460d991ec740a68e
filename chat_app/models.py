"""Database tables. The schema itself is made only by Alembic migrations."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware timestamps on every backend (SQLite drops the zone on its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


def _ts(**kwargs) -> sa.Column:
    return sa.Column(UTCDateTime(), **kwargs)


class MessageStatus(enum.StrEnum):
    pending = "pending"
    streaming = "streaming"
    complete = "complete"
    error = "error"
    stopped = "stopped"


# SQLModel types `__tablename__` as a declared attribute; a plain name is what it documents.
class User(SQLModel, table=True):
    __tablename__ = "users"  # pyright: ignore[reportAssignmentType]

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    display_name: str = Field(default="", max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    email_verified: bool = Field(default=False)
    default_model_id: str | None = Field(default=None, max_length=200)
    failed_logins: int = Field(default=0)
    last_failed_login_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    # The operator role, and an account an administrator switched off (it cannot sign in).
    is_admin: bool = Field(default=False)
    disabled: bool = Field(default=False)
    # An administrator's overrides of the operator's per-person limits (None: the default; 0: none).
    max_replies_in_flight: int | None = Field(default=None)
    max_requests_per_minute: int | None = Field(default=None)
    monthly_spend_limit: float | None = Field(default=None)  # dollars


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_sessions"  # pyright: ignore[reportAssignmentType]

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    # Only a SHA-256 of the cookie's token is stored: a database leak yields no usable session.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    expires_at: datetime = Field(sa_column=_ts(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # Written now and then (not on every request); a session unused for SESSION_IDLE_DAYS ends.
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    # Where it started, so its owner can tell it from their others on the settings page.
    user_agent: str | None = Field(default=None, max_length=255)
    client_address: str | None = Field(default=None, max_length=64)


# The product's tables say "session" for a chat (`chat_sessions`, `*.session_id`); the Python side
# says chat. Core statements and table constraints use the column's own name, `session_id`.
_IN_SESSION_ID = {"name": "session_id"}

MAX_TITLE_LENGTH = 120  # what a title may hold; the column is wider, for room to change it


class Chat(SQLModel, table=True):
    __tablename__ = "chat_sessions"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (sa.Index("ix_chat_sessions_user_recent", "user_id", "updated_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    title: str = Field(default="New chat", max_length=200)
    model_id: str | None = Field(default=None, max_length=200)
    is_public: bool = Field(default=False)
    share_token: str = Field(max_length=64, unique=True, index=True)
    # The last message of the branch its owner (or an editor) left selected: what a view opens
    # with, and what a new message follows. None while the chat is empty. (No foreign key: the
    # two tables would each wait on the other, and a chat's messages go only with the chat.)
    current_leaf_id: uuid.UUID | None = Field(default=None)
    # When its owner pinned it to the top of their sidebar (None: not pinned).
    pinned_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


IN_FLIGHT_SQL = "status IN ('pending', 'streaming')"


class Message(SQLModel, table=True):
    __tablename__ = "messages"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (
        sa.UniqueConstraint("session_id", "seq", name="uq_messages_session_seq"),
        # At most one reply in flight per chat, whichever worker or machine took the send.
        sa.Index(
            "uq_messages_one_in_flight",
            "session_id",
            unique=True,
            sqlite_where=sa.text(IN_FLIGHT_SQL),
            postgresql_where=sa.text(IN_FLIGHT_SQL),
        ),
        # A person's budget: their replies in flight, and what their replies cost this month.
        sa.Index(
            "ix_messages_author_in_flight",
            "author_id",
            sqlite_where=sa.text(IN_FLIGHT_SQL),
            postgresql_where=sa.text(IN_FLIGHT_SQL),
        ),
        sa.Index("ix_messages_author_updated", "author_id", "updated_at"),
        # A message's versions (its siblings), and a chat's first messages (no parent).
        sa.Index("ix_messages_session_parent", "session_id", "parent_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    chat_id: uuid.UUID = Field(
        foreign_key="chat_sessions.id", ondelete="CASCADE", sa_column_kwargs=_IN_SESSION_ID
    )
    seq: int = Field(description="order of writing in the chat, 1-based")
    # A chat is a tree: an edited message or a regenerated reply is a sibling of the one it
    # replaces. `parent_id` is the message this one follows (None for a first message), in the
    # same chat; `depth` is this message's place on its branch, 1-based.
    parent_id: uuid.UUID | None = Field(default=None)
    depth: int = Field(default=1)
    # Who wrote it (or asked for this reply): their own provider key pays for the reply.
    author_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    role: str = Field(max_length=16)
    content: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(default=MessageStatus.complete.value, max_length=16)
    model_id: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    input_tokens: int | None = Field(default=None)
    output_tokens: int | None = Field(default=None)
    cost: float | None = Field(default=None)
    # The asking person's own key pays: the cost is theirs, not the operator's, and leaves their
    # monthly allowance alone.
    paid_with_own_key: bool = Field(default=False)
    # The worker process producing this reply while it is in flight; when that worker is gone,
    # any other one ends the reply as interrupted.
    runner: str | None = Field(default=None, max_length=120)
    # A reply's prompt, fitted to its model's window: the earlier messages sent, and what of the
    # conversation was not (whole messages, and files of messages that were sent).
    prompt_messages: int | None = Field(default=None)
    left_out_messages: int = Field(default=0)
    left_out_files: int = Field(default=0)
    # How many of the messages left out went as a summary instead (SUMMARY_MODEL), and which
    # summary (conversation_summaries.id). No foreign key: a summary goes only with the message it
    # runs down to, which is above this reply, and messages go only with their chat.
    summarized_messages: int = Field(default=0)
    summary_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class MediaFile(SQLModel, table=True):
    """An image or video in our own storage: uploaded by a person or made by a model.

    An upload waits unattached (no chat, no message) until its message is sent; only its
    owner can see it meanwhile.
    """

    __tablename__ = "media_files"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (sa.Index("ix_media_files_owner_pending", "owner_id", "message_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    chat_id: uuid.UUID | None = Field(
        default=None,
        foreign_key="chat_sessions.id",
        ondelete="CASCADE",
        index=True,
        sa_column_kwargs=_IN_SESSION_ID,
    )
    message_id: uuid.UUID | None = Field(
        default=None, foreign_key="messages.id", ondelete="CASCADE", index=True
    )
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    kind: str = Field(max_length=16)  # image | video
    mime_type: str = Field(max_length=100)
    byte_size: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=255, unique=True)
    thumb_key: str | None = Field(default=None, max_length=255)  # thumbnail or video poster (JPEG)
    original_name: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ConversationSummary(SQLModel, table=True):
    """What a cheap model wrote of a branch, from its first message down to `message_id`: sent in
    place of those messages once they no longer fit a model's window (services/summaries.py).
    Written once, never changed: a later summary is another row, further down."""

    __tablename__ = "conversation_summaries"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (sa.Index("ix_conversation_summaries_session_depth", "session_id", "depth"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    message_id: uuid.UUID = Field(foreign_key="messages.id", ondelete="CASCADE", unique=True)
    chat_id: uuid.UUID = Field(
        foreign_key="chat_sessions.id", ondelete="CASCADE", sa_column_kwargs=_IN_SESSION_ID
    )
    depth: int  # the message's place on its branch
    covered: int  # the messages (with text or files) it stands for
    content: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    model_id: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class SharedAccess(SQLModel, table=True):
    """An invitation to a chat, by email.

    It grants access to the account with that verified email, or to the account that opened
    the invitation's own link while signed in with that email (then `user_id` is set): the
    link reached the invited mailbox, which is the proof a password account lacks.
    """

    __tablename__ = "shared_access"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (
        sa.UniqueConstraint("session_id", "email", name="uq_shared_access_session_email"),
        sa.UniqueConstraint("invite_token", name="uq_shared_access_invite_token"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    chat_id: uuid.UUID = Field(
        foreign_key="chat_sessions.id", ondelete="CASCADE", sa_column_kwargs=_IN_SESSION_ID
    )
    email: str = Field(max_length=320, index=True)
    can_edit: bool = Field(default=False)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    invite_token: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ModelEntry(SQLModel, table=True):
    """One model of the catalog, seeded and upgraded from the catalog files (and Ollama)."""

    __tablename__ = "models"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (sa.Index("ix_models_type_position", "type", "position"),)

    id: str = Field(primary_key=True, max_length=200)
    name: str = Field(max_length=200)
    provider: str = Field(max_length=100)
    provider_name: str = Field(max_length=200)
    type: str = Field(max_length=16)  # text | image | video
    capabilities: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    context_window: int | None = None
    input_per_mtok: float | None = None  # USD per million input tokens
    output_per_mtok: float | None = None
    per_image: float | None = None
    per_second: float | None = None  # USD per second of video
    litellm_model: str | None = Field(default=None, max_length=200)
    replicate_model: str | None = Field(default=None, max_length=200)
    api_base: str | None = Field(default=None, max_length=500)  # operators' own endpoints
    key_env: str | None = Field(default=None, max_length=100)
    source: str = Field(default="catalog", max_length=16)  # catalog | operator | ollama
    catalog_version: int = 0
    enabled: bool = True
    position: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class UserApiKey(SQLModel, table=True):
    """A person's own provider key, encrypted with the server's secret; never sent back out."""

    __tablename__ = "user_api_keys"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (sa.UniqueConstraint("user_id", "provider", name="uq_user_api_keys_user_provider"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    provider: str = Field(max_length=100)
    ciphertext: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    last4: str = Field(max_length=4)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class SpendRecord(SQLModel, table=True):
    """What a reply cost, kept when its message no longer holds it (regenerated, or its chat
    deleted): a person's monthly spend counts it still."""

    __tablename__ = "spend_records"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (sa.Index("ix_spend_records_user_spent", "user_id", "spent_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    amount: float
    paid_with_own_key: bool = Field(default=False)
    spent_at: datetime = Field(sa_column=_ts(nullable=False))


class SiteSetting(SQLModel, table=True):
    """A setting an administrator changed on the admin page; it wins over the environment's."""

    __tablename__ = "site_settings"  # pyright: ignore[reportAssignmentType]

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ApiToken(SQLModel, table=True):
    """A personal API token: a program speaks for its person with it (`/v1`, OpenAI's protocol).

    Only a SHA-256 of the token is stored, as for sessions; the person sees the token once, when
    it is made, and afterwards only its prefix. A revoked token stays, so that it is refused as
    revoked rather than unknown.
    """

    __tablename__ = "api_tokens"  # pyright: ignore[reportAssignmentType]

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)  # "cat_" and the next 8 characters: how people tell tokens apart
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    # Written at most once a minute, not on every request.
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
