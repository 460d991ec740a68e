"""The schema comes from Alembic alone, and matches the models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel

import chat_app.models
from chat_app import search_index


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


def test_messages_from_before_0010_are_found_and_the_index_goes_with_a_downgrade(database_url):
    """The index is filled with what the chats already hold, finished messages only."""
    from alembic import command
    from chat_app.db import make_engine
    from chat_app.migrations import alembic_config
    from chat_app.models import Chat, Message, User
    from chat_app.services import search

    command.upgrade(alembic_config(database_url), "0009")
    engine = make_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        person = User(email="old@example.com")
        session.add(person)
        session.flush()
        chat = Chat(user_id=person.id, title="Old chat", share_token="old-token")
        session.add(chat)
        session.flush()
        session.add_all(
            [
                Message(chat_id=chat.id, seq=1, role="user", content="a question about narwhals"),
                Message(
                    chat_id=chat.id, seq=2, role="assistant", content="narwhals in flight", status="streaming"
                ),
            ]
        )
        session.commit()
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
