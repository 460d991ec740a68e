"""Budgets: checked before a reply's rows are written, counted against whoever asked, refused with
which limit, what is left and when it resets."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from chat_app.models import Message, SpendRecord, User, utcnow
from chat_app.services import branches, budgets, chats, keys
from chat_app.services.errors import LimitReached
from tests.support.factories import make_chat, make_user


@pytest.fixture
def person(session) -> User:
    """Someone who is not the operator (the first account is)."""
    make_user(session)
    return make_user(session)


def spent(
    session, user: User, cost: float, *, own_key: bool = False, when: datetime | None = None
) -> uuid.UUID:
    """A finished reply the person asked for, costing `cost`, in a new chat of their own (its id)."""
    chat = make_chat(session, user)
    at = when or utcnow()
    written = [
        Message(chat_id=chat.id, seq=1, role="user", content="q", author_id=user.id, updated_at=at),
        Message(
            chat_id=chat.id,
            seq=2,
            role="assistant",
            content="a",
            author_id=user.id,
            cost=cost,
            paid_with_own_key=own_key,
            created_at=at,
            updated_at=at,
        ),
    ]
    branches.chain(chat, written)
    session.add_all([chat, *written])
    session.commit()
    return chat.id


def count_messages(session) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(Message)).scalar_one()


def test_the_operators_defaults_hold_unless_overridden(session, person, configure):
    configure(
        REPLIES_IN_FLIGHT_PER_PERSON="2", REQUESTS_PER_MINUTE_PER_PERSON="7", MONTHLY_SPEND_PER_PERSON="4.5"
    )
    assert budgets.limits_for(person) == budgets.PersonLimits(2, 7, 4.5)
    person.max_replies_in_flight, person.monthly_spend_limit = 5, 0.0
    assert budgets.limits_for(person) == budgets.PersonLimits(5, 7, 0.0)


def test_an_administrators_allowance_is_unlimited_unless_set(session, configure):
    configure(MONTHLY_SPEND_PER_PERSON="4.5")
    operator = make_user(session)
    assert operator.is_admin and budgets.limits_for(operator).monthly_spend == 0
    operator.monthly_spend_limit = 20.0
    assert budgets.limits_for(operator).monthly_spend == 20.0


def test_a_reply_past_the_monthly_allowance_is_refused_and_nothing_is_written(
    session, person, provider_env, configure
):
    configure(MONTHLY_SPEND_PER_PERSON="10")
    spent(session, person, 10.5)
    chat = make_chat(session, person)
    before = count_messages(session)
    with pytest.raises(LimitReached) as refused:
        chats.post_message(person, chat.id, "one more", session=session)
    session.rollback()
    resets = budgets.next_month_start()
    assert refused.value.code == "monthly_spend"
    assert str(refused.value).startswith(
        f"You have used $10.50 of your $10.00 monthly allowance; it resets on 1 {resets:%B}."
    )
    assert 0 < refused.value.retry_after <= 31 * 86400
    assert count_messages(session) == before


def test_the_allowance_counts_this_month_only_and_not_the_persons_own_key(
    session, person, provider_env, configure
):
    configure(MONTHLY_SPEND_PER_PERSON="10")
    spent(session, person, 50.0, when=budgets.month_start() - timedelta(seconds=1))
    spent(session, person, 50.0, own_key=True)
    spent(session, person, 9.0)
    assert budgets.spent_this_month(person.id, session=session) == 9.0
    chats.post_message(person, make_chat(session, person).id, "still allowed", session=session)


def test_a_reply_on_the_persons_own_key_goes_past_the_allowance_and_is_marked_so(
    session, person, provider_env, configure
):
    configure(MONTHLY_SPEND_PER_PERSON="1", ANTHROPIC_API_KEY="the-servers-anthropic-key")
    spent(session, person, 3.0)
    keys.set_key(person, "openai", "sk-my-own-openai-key", session=session)
    _, reply = chats.post_message(person, make_chat(session, person).id, "mine", session=session)
    assert reply.paid_with_own_key
    with pytest.raises(LimitReached):  # a model the person's own key does not pay for
        chats.post_message(
            person, make_chat(session, person, "anthropic/claude-sonnet-4-5").id, "theirs", session=session
        )


def test_an_own_key_the_server_can_no_longer_read_pays_for_nothing(session, person, provider_env, configure):
    configure(MONTHLY_SPEND_PER_PERSON="1")
    keys.set_key(person, "openai", "sk-my-own-openai-key", session=session)
    configure(SECRET_KEY="a-new-server-secret-" + "x" * 32)  # the stored key no longer decrypts
    _, reply = chats.post_message(person, make_chat(session, person).id, "on whose key?", session=session)
    assert not reply.paid_with_own_key  # it runs on the server's key, so it counts
    spent(session, person, 3.0)
    with pytest.raises(LimitReached):
        chats.post_message(person, make_chat(session, person).id, "past the allowance", session=session)


def test_regenerating_or_deleting_a_chat_keeps_what_its_replies_cost(session, person, provider_env):
    chat_id = spent(session, person, 6.0)
    chats.regenerate_reply(person, chat_id, session=session)
    session.commit()
    assert budgets.spent_this_month(person.id, session=session) == 6.0
    regenerated = session.execute(
        sa.select(Message).where(Message.status == "pending", Message.chat_id == chat_id)
    ).scalar_one()
    regenerated.status, regenerated.cost = "complete", 2.0
    session.commit()
    chats.delete_chat(person, chat_id, session=session)
    session.commit()
    assert count_messages(session) == 0
    assert budgets.spent_this_month(person.id, session=session) == 8.0
    records = session.execute(sa.select(SpendRecord.user_id, SpendRecord.amount)).all()
    assert [amount for _, amount in records] == [8.0]  # both versions, kept as the chat went


def test_replies_in_flight_are_limited_per_person(session, person, provider_env, configure):
    configure(REPLIES_IN_FLIGHT_PER_PERSON="2")
    for _ in range(2):
        chats.post_message(person, make_chat(session, person).id, "busy", session=session)
        session.commit()
    third = make_chat(session, person)
    with pytest.raises(LimitReached) as refused:
        chats.post_message(person, third.id, "one too many", session=session)
    assert refused.value.code == "replies_in_flight" and refused.value.retry_after is None
    assert str(refused.value) == (
        "You have 2 replies in flight, the most you may have at once; wait for one to finish."
    )
    session.rollback()
    other = make_user(session)  # someone else's replies are theirs
    chats.post_message(other, make_chat(session, other).id, "free", session=session)


def test_requests_a_minute_are_limited_per_person_and_a_refusal_is_not_counted(
    session, person, provider_env, configure
):
    configure(REQUESTS_PER_MINUTE_PER_PERSON="3")
    chat = make_chat(session, person)  # a new chat is a request too
    chats.post_message(person, chat.id, "one", session=session)
    session.commit()
    second = make_chat(session, person)
    with pytest.raises(LimitReached) as refused:
        make_chat(session, person)
    assert refused.value.code == "requests_per_minute"
    assert str(refused.value).startswith("You have made 3 requests in the last minute, the most you may.")
    assert 0 < (refused.value.retry_after or 0) <= 60
    session.rollback()
    usage = budgets.requests_this_minute(person)
    assert usage is not None and usage.used == 3
    with pytest.raises(LimitReached):
        chats.post_message(person, second.id, "two", session=session)


def test_a_limit_of_0_is_no_limit(session, person, provider_env, configure):
    configure(
        REPLIES_IN_FLIGHT_PER_PERSON="0", REQUESTS_PER_MINUTE_PER_PERSON="0", MONTHLY_SPEND_PER_PERSON="0"
    )
    spent(session, person, 1000.0)
    for _ in range(5):
        chats.post_message(person, make_chat(session, person).id, "go", session=session)
        session.commit()
    assert budgets.requests_this_minute(person) is None


def test_standing_shows_use_against_limits(session, person, provider_env, configure):
    configure(
        REPLIES_IN_FLIGHT_PER_PERSON="3", REQUESTS_PER_MINUTE_PER_PERSON="30", MONTHLY_SPEND_PER_PERSON="5"
    )
    spent(session, person, 1.25)
    chats.post_message(person, make_chat(session, person).id, "go", session=session)
    session.commit()
    standing = budgets.standing(person, session=session)
    assert standing["replies_in_flight_label"] == "1 of 3"
    assert standing["requests_label"] == "3 of 30"  # two new chats and a reply
    assert 0 < standing["requests_reset_in"] <= 60
    assert standing["spend_label"] == "$1.25 of $5.00"
    assert standing["spend_resets"] == f"1 {budgets.next_month_start():%B}"
    person.monthly_spend_limit = 0.0
    assert budgets.standing(person, session=session)["spend_label"] == "$1.25 (no limit)"


def test_the_month_starts_on_the_first_in_utc():
    late = datetime(2026, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))  # 1 January, 04:59 UTC
    assert budgets.month_start(late) == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert budgets.next_month_start(datetime(2026, 12, 15, tzinfo=timezone.utc)) == datetime(
        2027, 1, 1, tzinfo=timezone.utc
    )
    assert budgets.next_month_start(datetime(2026, 2, 28, tzinfo=timezone.utc)).month == 3
