"""Personal API tokens: shown once, kept only as a hash, refused once revoked or when the account
is disabled, revoked only by their own person, and capped."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from chat_app.models import ApiToken, User, utcnow
from chat_app.services import api_tokens
from chat_app.services.errors import Invalid, NotFound, TooManyAttempts, Unauthenticated
from tests.support.factories import make_token, make_user


def test_a_token_is_shown_once_and_only_its_hash_is_kept(session):
    person = make_user(session)
    made = api_tokens.create(person, "  my   editor ", session=session)
    session.commit()
    token = made["token"]
    assert token.startswith("cat_") and len(token) == len("cat_") + 43
    assert made["name"] == "my editor" and made["prefix"] == token[:12]
    assert made["last_used_at"] is None and made["last_used"] == "never"
    row = session.exec(select(ApiToken)).one()
    assert token not in {row.token_hash, row.prefix, row.name} and len(row.token_hash) == 64
    listed = api_tokens.list_tokens(person, session=session)
    assert [t["id"] for t in listed] == [made["id"]]
    assert "token" not in listed[0] and token not in repr(listed)


def test_a_token_speaks_for_its_person_until_revoked(session):
    person = make_user(session)
    token = make_token(session, person)
    assert api_tokens.authenticate(token, session=session).id == person.id
    api_tokens.revoke(person, api_tokens.list_tokens(person, session=session)[0]["id"], session=session)
    session.commit()
    with pytest.raises(Unauthenticated) as refused:
        api_tokens.authenticate(token, session=session)
    assert str(refused.value) == api_tokens.REVOKED and refused.value.code == "revoked_api_key"
    assert api_tokens.list_tokens(person, session=session) == []


@pytest.mark.parametrize("presented", [None, "", "sk-not-ours", "cat_" + "x" * 43, "cat_" + "y" * 300])
def test_a_missing_or_unknown_token_is_refused_with_a_sentence(session, presented):
    make_token(session, make_user(session))
    with pytest.raises(Unauthenticated) as refused:
        api_tokens.authenticate(presented, session=session)
    assert str(refused.value) in (api_tokens.MISSING, api_tokens.NOT_VALID)
    assert refused.value.code == "invalid_api_key"


def test_a_disabled_account_s_tokens_are_refused(session):
    person = make_user(session)
    token = make_token(session, person)
    person.disabled = True
    session.add(person)
    session.commit()
    with pytest.raises(Unauthenticated, match="disabled"):
        api_tokens.authenticate(token, session=session)


def test_last_use_is_written_at_most_once_a_minute(session):
    person = make_user(session)
    token = make_token(session, person)
    start = utcnow()

    def last_used():
        session.expire_all()
        return session.exec(select(ApiToken.last_used_at)).one()

    api_tokens.authenticate(token, session=session, now=start)
    assert last_used() == start
    api_tokens.authenticate(token, session=session, now=start + timedelta(seconds=50))
    assert last_used() == start
    api_tokens.authenticate(token, session=session, now=start + timedelta(seconds=61))
    assert last_used() == start + timedelta(seconds=61)
    assert api_tokens.list_tokens(person, session=session)[0]["last_used"].endswith("UTC")


def test_only_its_own_person_can_revoke_a_token(session):
    owner, other = make_user(session), make_user(session)
    token = make_token(session, owner)
    token_id = api_tokens.list_tokens(owner, session=session)[0]["id"]
    for person, presented in [(other, token_id), (owner, "not-a-uuid"), (owner, str(other.id))]:
        with pytest.raises(NotFound, match="no such API token"):
            api_tokens.revoke(person, presented, session=session)
    assert api_tokens.authenticate(token, session=session).id == owner.id
    api_tokens.revoke(owner, token_id, session=session)
    with pytest.raises(NotFound):  # revoked already: it is gone for its person too
        api_tokens.revoke(owner, token_id, session=session)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_short_name(session, name):
    with pytest.raises(Invalid, match="(?i)name"):
        api_tokens.create(make_user(session), name, session=session)
    assert session.exec(select(ApiToken)).all() == []


def test_live_tokens_are_capped_and_a_revoked_one_makes_room(session):
    person = make_user(session)
    for number in range(api_tokens.MOST_LIVE):
        api_tokens.create(person, f"program {number}", session=session)
    with pytest.raises(Invalid) as refused:
        api_tokens.create(person, "one too many", session=session)
    assert str(refused.value).startswith("You have 20 API tokens, the most one may have.")
    api_tokens.revoke(person, api_tokens.list_tokens(person, session=session)[0]["id"], session=session)
    assert api_tokens.create(person, "in its place", session=session)["name"] == "in its place"


def test_tokens_made_a_day_are_capped(session, monkeypatch):
    monkeypatch.setattr(api_tokens, "MOST_MADE_PER_DAY", 2)
    person = make_user(session)
    for _ in range(2):
        made = api_tokens.create(person, "rotated", session=session)
        api_tokens.revoke(person, made["id"], session=session)
    with pytest.raises(TooManyAttempts, match="made 2 API tokens today"):
        api_tokens.create(person, "rotated", session=session)
    assert api_tokens.create(make_user(session), "someone else's", session=session)  # per person


def test_deleting_a_person_deletes_their_tokens(session):
    person = make_user(session)
    make_token(session, person)
    session.execute(sa.delete(User).where(col(User.id) == person.id))
    session.commit()
    assert session.exec(select(ApiToken)).all() == []


def test_the_tokens_table_comes_with_migration_0011_and_goes_with_its_downgrade(database_url):
    from alembic import command
    from chat_app.db import make_engine
    from chat_app.migrations import alembic_config

    config = alembic_config(database_url)
    command.upgrade(config, "0011")
    engine = make_engine(database_url)
    with engine.connect() as conn:
        indexes = {i["name"]: i["unique"] for i in sa.inspect(conn).get_indexes("api_tokens")}
    assert indexes == {"ix_api_tokens_token_hash": True, "ix_api_tokens_user_id": False}
    command.downgrade(config, "0010")
    with engine.connect() as conn:
        assert "api_tokens" not in sa.inspect(conn).get_table_names()
    engine.dispose()
