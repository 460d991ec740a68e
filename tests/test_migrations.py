"""The schema comes from Alembic alone, and matches the models."""

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel

import chat_app.models
from chat_app import search_index
from chat_app.models import User, UTCDateTime


def test_migrations_create_every_table_the_models_declare(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": lambda name, *_: not search_index.is_ours(name)}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_schema_has_the_indexes_the_queries_need(engine):
    inspector = sa.inspect(engine)
    chat_indexes = {tuple(i["column_names"]) for i in inspector.get_indexes("chat_sessions")}
    assert ("user_id", "updated_at") in chat_indexes
    message_uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("messages")}
    assert ("session_id", "seq") in message_uniques
    shared = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("shared_access")}
    assert ("session_id", "email") in shared


def test_deleting_a_user_cascades_to_chats_and_messages(session, provider_env):
    from chat_app.models import Chat, Message
    from chat_app.services import chats
    from tests.support.factories import make_chat, make_user

    user = make_user(session)
    chat = make_chat(session, user)
    chats.post_message(user, chat.id, "hello", session=session)
    session.commit()
    session.execute(sa.delete(chat_app.models.User).where(chat_app.models.User.id == user.id))
    session.commit()
    assert session.exec(sa.select(sa.func.count()).select_from(Chat)).one()[0] == 0
    assert session.exec(sa.select(sa.func.count()).select_from(Message)).one()[0] == 0


def test_budgets_have_their_indexes(engine):
    indexes = {i["name"]: tuple(i["column_names"]) for i in sa.inspect(engine).get_indexes("messages")}
    assert indexes["ix_messages_author_updated"] == ("author_id", "updated_at")
    assert indexes["ix_messages_author_in_flight"] == ("author_id",)
    spend = {tuple(i["column_names"]) for i in sa.inspect(engine).get_indexes("spend_records")}
    assert ("user_id", "spent_at") in spend


def test_an_upgraded_install_keeps_its_first_account_as_its_operator(database_url, monkeypatch):
    import uuid
    from datetime import datetime, timezone

    from alembic import command
    from chat_app.db import make_engine
    from chat_app.migrations import alembic_config

    monkeypatch.delenv("ADMIN_EMAILS", raising=False)
    config = alembic_config(database_url)
    command.upgrade(config, "0006")
    engine = make_engine(database_url)
    first, later = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        for user_id, email, year in ((later, "later@example.com", 2025), (first, "first@example.com", 2024)):
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, display_name, email_verified, failed_logins, created_at) "
                    "VALUES (:id, :email, '', false, 0, :at)"
                ),
                {"id": user_id.hex, "email": email, "at": datetime(year, 1, 1, tzinfo=timezone.utc)},
            )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        admins = conn.execute(sa.text("SELECT email FROM users WHERE is_admin")).scalars().all()
    engine.dispose()
    assert admins == ["first@example.com"]


def test_sessions_from_before_0008_were_last_seen_when_they_started(database_url):
    import uuid
    from datetime import datetime, timezone

    from alembic import command
    from chat_app.db import make_engine
    from chat_app.migrations import alembic_config

    command.upgrade(alembic_config(database_url), "0006")
    engine = make_engine(database_url)
    user_id = uuid.uuid4()
    values = {"id": user_id, "session": uuid.uuid4(), "at": datetime(2026, 11, 30, 8, tzinfo=timezone.utc)}
    typed = [
        sa.bindparam("id", type_=sa.Uuid),
        sa.bindparam("session", type_=sa.Uuid),
        sa.bindparam("at", type_=sa.DateTime(timezone=True)),
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, display_name, email_verified, failed_logins, created_at)"
                " VALUES (:id, 'old@example.com', '', false, 0, :at)"
            ).bindparams(typed[0], typed[2]),
            {"id": user_id, "at": values["at"]},
        )
        conn.execute(
            sa.text(
                "INSERT INTO auth_sessions (id, user_id, token_hash, created_at, expires_at)"
                " VALUES (:session, :id, 'x', :at, :at)"
            ).bindparams(*typed),
            values,
        )
    command.upgrade(alembic_config(database_url), "head")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT created_at, last_seen_at, user_agent FROM auth_sessions")).one()
    engine.dispose()
    assert row.last_seen_at == row.created_at and row.user_agent is None


def _table(name: str, **columns: sa.types.TypeEngine) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, t) for c, t in columns.items()))


# The columns every version of the schema has: what an older install wrote.
_USERS = _table(
    "users",
    id=sa.Uuid(),
    email=sa.String(),
    display_name=sa.String(),
    email_verified=sa.Boolean(),
    failed_logins=sa.Integer(),
    created_at=UTCDateTime(),
)
_CHATS = _table(
    "chat_sessions",
    id=sa.Uuid(),
    user_id=sa.Uuid(),
    title=sa.String(),
    is_public=sa.Boolean(),
    share_token=sa.String(),
    created_at=UTCDateTime(),
    updated_at=UTCDateTime(),
)
_MESSAGES = _table(
    "messages",
    id=sa.Uuid(),
    session_id=sa.Uuid(),
    seq=sa.Integer(),
    role=sa.String(),
    content=sa.Text(),
    status=sa.String(),
    created_at=UTCDateTime(),
    updated_at=UTCDateTime(),
)


def _old_chat(
    engine: sa.Engine, messages: list[tuple[str, str, str]]
) -> tuple[User, uuid.UUID, list[uuid.UUID]]:
    """A person and a chat written as an older schema would; returns them and the messages' ids."""
    person, chat_id = User(id=uuid.uuid4(), email="old@example.com"), uuid.uuid4()
    now = datetime.now(timezone.utc)
    ids = [uuid.uuid4() for _ in messages]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(_USERS).values(
                id=person.id,
                email=person.email,
                display_name="",
                email_verified=False,
                failed_logins=0,
                created_at=now,
            )
        )
        conn.execute(
            sa.insert(_CHATS).values(
                id=chat_id,
                user_id=person.id,
                title="Old chat",
                is_public=False,
                share_token="old-token",
                created_at=now,
                updated_at=now,
            )
        )
        for seq, (message_id, (role, content, status)) in enumerate(zip(ids, messages, strict=True), start=1):
            conn.execute(
                sa.insert(_MESSAGES).values(
                    id=message_id,
                    session_id=chat_id,
                    seq=seq,
                    role=role,
                    content=content,
                    status=status,
                    created_at=now,
                    updated_at=now,
                )
            )
    return person, chat_id, ids


def test_chats_from_before_0012_become_one_branch_each(database_url):
    from alembic import command
    from chat_app.db import make_engine
    from chat_app.migrations import alembic_config
    from chat_app.models import Chat, Message
    from chat_app.services import chats

    command.upgrade(alembic_config(database_url), "0011")
    engine = make_engine(database_url)
    _person, chat_id, ids = _old_chat(
        engine, [("user", "one", "complete"), ("assistant", "two", "complete"), ("user", "three", "complete")]
    )
    command.upgrade(alembic_config(database_url), "head")
    with Session(engine) as session:
        rows = chats.messages_of(chat_id, session=session)
        assert [(m.id, m.parent_id, m.depth) for m in rows] == [
            (ids[0], None, 1),
            (ids[1], ids[0], 2),
            (ids[2], ids[1], 3),
        ]
        chat = session.get(Chat, chat_id)
        assert chat is not None and chat.current_leaf_id == ids[2]
        assert [m.id for m in chats.branch_of(chat, session=session)] == ids
        assert session.exec(sa.select(sa.func.count()).select_from(Message)).one()[0] == 3
    command.downgrade(alembic_config(database_url), "0011")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("messages")}
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("messages")}
        found = conn.execute(sa.text("SELECT count(*) FROM messages")).scalar_one()
    engine.dispose()
    assert {"parent_id", "depth"}.isdisjoint(columns) and "ix_messages_session_parent" not in indexes
    assert found == 3


def test_messages_from_before_0010_are_found_and_the_index_goes_with_a_downgrade(database_url):
    """The index is filled with what the chats already hold, finished messages only."""
    from alembic import command
    from chat_app.db import make_engine
    from chat_app.migrations import alembic_config
    from chat_app.services import search

    command.upgrade(alembic_config(database_url), "0009")
    engine = make_engine(database_url)
    person, _chat_id, _ids = _old_chat(
        engine,
        [("user", "a question about narwhals", "complete"), ("assistant", "narwhals in flight", "streaming")],
    )
    command.upgrade(alembic_config(database_url), "head")
    with Session(engine) as session:
        found = search.search(person, "narwhals", session=session)
    assert [r["seq"] for r in found] == [1]
    command.downgrade(alembic_config(database_url), "0009")
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("messages")}
    engine.dispose()
    assert not any(search_index.is_ours(n) for n in names | indexes)
