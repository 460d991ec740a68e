"""Per-person budgets, checked before any provider is called: replies in flight at once, requests
a minute, and dollars a month spent on keys the person does not own.

The operator's defaults come from the settings; an administrator overrides them per person; 0
turns a limit off. A reply counts against whoever asked for it, whichever key pays: an editor
spends from their own allowance in the owner's chat, even on the owner's key. Only the asking
person's *own* key leaves their monthly allowance alone: the operator does not pay for it.
A call through the OpenAI-compatible API (`/v1`) is a reply like any other: the same checks, and
while it streams it holds one of the person's places in flight.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypedDict, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col

from chat_app.catalog import CatalogModel
from chat_app.models import IN_FLIGHT_SQL, Message, SpendRecord, User, utcnow
from chat_app.services import access, keys, limits
from chat_app.services.errors import LimitReached, TooManyAttempts
from chat_app.services.views import money
from chat_app.settings import get_settings

# The stable names of the limits: the `code` of a refusal, the keys of an administrator's overrides.
REPLIES_IN_FLIGHT = "replies_in_flight"
REQUESTS_PER_MINUTE = "requests_per_minute"
MONTHLY_SPEND = "monthly_spend"
API_CALLS = "api_calls"  # the slots (services/limits.py) of calls through the API in flight

N = TypeVar("N", int, float)


@dataclass(frozen=True)
class PersonLimits:
    """The limits that hold for one person now; 0 is no limit."""

    replies_in_flight: int
    requests_per_minute: int
    monthly_spend: float  # dollars


def limits_for(person: User) -> PersonLimits:
    """The person's own overrides, else the operator's defaults. An administrator's monthly
    allowance is unlimited unless set: the operator pays the bill the allowance protects."""
    settings = get_settings()
    default_spend = 0.0 if access.is_admin(person) else settings.monthly_spend_per_person
    return PersonLimits(
        replies_in_flight=_either(person.max_replies_in_flight, settings.replies_in_flight_per_person),
        requests_per_minute=_either(person.max_requests_per_minute, settings.requests_per_minute_per_person),
        monthly_spend=_either(person.monthly_spend_limit, default_spend),
    )


def _either(override: N | None, default: N) -> N:
    return default if override is None else override


# ----- the month ----------------------------------------------------------------------------------


def month_start(now: datetime | None = None) -> datetime:
    """The first instant of this calendar month, UTC: when the monthly allowance starts over."""
    now = (now or utcnow()).astimezone(timezone.utc)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime | None = None) -> datetime:
    start = month_start(now)
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def _day_and_month(moment: datetime) -> str:
    return f"{moment.day} {moment:%B}"


# ----- what a person uses -------------------------------------------------------------------------


def replies_in_flight(person_id: uuid.UUID, *, session: Session) -> int:
    """Replies and generations the person asked for that are still being made (a partial index)."""
    return session.execute(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(col(Message.author_id) == person_id, sa.text(IN_FLIGHT_SQL))
    ).scalar_one()


def api_calls_in_flight(person_id: uuid.UUID) -> int:
    """Calls through the API the person has streaming now (no row tracks them: slots do)."""
    return limits.in_progress(API_CALLS, str(person_id))


def running(person_id: uuid.UUID, *, session: Session) -> int:
    """Everything of the person's in flight: replies and generations, and calls through the API."""
    return replies_in_flight(person_id, session=session) + api_calls_in_flight(person_id)


def _spend_since(start: datetime):
    """Per person: the costs of the replies they asked for since `start`, on keys not their own,
    together with those kept after their messages went (as (user id, amount) rows)."""
    on_messages = sa.select(col(Message.author_id).label("user_id"), col(Message.cost).label("amount")).where(
        col(Message.updated_at) >= start,
        col(Message.cost).is_not(None),
        col(Message.paid_with_own_key).is_(False),
    )
    kept = sa.select(col(SpendRecord.user_id), col(SpendRecord.amount)).where(
        col(SpendRecord.spent_at) >= start, col(SpendRecord.paid_with_own_key).is_(False)
    )
    return on_messages, kept


def spent_this_month(person_id: uuid.UUID, *, session: Session, now: datetime | None = None) -> float:
    """Dollars the person's replies cost this month on keys not their own (two indexed sums)."""
    return spent_this_month_by([person_id], session=session, now=now).get(person_id, 0.0)


def spent_this_month_by(
    person_ids: list[uuid.UUID], *, session: Session, now: datetime | None = None
) -> dict[uuid.UUID, float]:
    """The same, for several people at once (a page of the admin's list)."""
    if not person_ids:
        return {}
    on_messages, kept = _spend_since(month_start(now))
    both = sa.union_all(
        on_messages.where(col(Message.author_id).in_(person_ids)),
        kept.where(col(SpendRecord.user_id).in_(person_ids)),
    ).subquery()
    rows = session.execute(
        sa.select(both.c.user_id, sa.func.sum(both.c.amount)).group_by(both.c.user_id)
    ).all()
    return {row[0]: float(row[1] or 0.0) for row in rows}


def replies_in_flight_by(person_ids: list[uuid.UUID], *, session: Session) -> dict[uuid.UUID, int]:
    if not person_ids:
        return {}
    rows = session.execute(
        sa.select(col(Message.author_id), sa.func.count())
        .where(col(Message.author_id).in_(person_ids), sa.text(IN_FLIGHT_SQL))
        .group_by(col(Message.author_id))
    ).all()
    return {row[0]: int(row[1]) for row in rows}


def _requests_limit(person_id: uuid.UUID, count: int) -> tuple[limits.Limit, str]:
    refusal = f"You have made {count} requests in the last minute, the most you may."
    return limits.Limit(REQUESTS_PER_MINUTE, count=count, per=60, refusal=refusal), str(person_id)


def requests_this_minute(person: User) -> limits.Usage | None:
    """What the person's requests-per-minute window holds (None when they have no such limit)."""
    count = limits_for(person).requests_per_minute
    return limits.usage(*_requests_limit(person.id, count)) if count else None


# ----- checks -------------------------------------------------------------------------------------


def count_request(person: User, allowed: PersonLimits | None = None) -> None:
    """One more request (a reply, a generation, a new chat) in the person's minute, or LimitReached."""
    count = (allowed or limits_for(person)).requests_per_minute
    if not count:
        return
    try:
        limits.take(*_requests_limit(person.id, count))
    except TooManyAttempts as exc:
        raise LimitReached(str(exc), limit=REQUESTS_PER_MINUTE, retry_after=exc.retry_after) from None


def pays_with_own_key(person: User, model: CatalogModel, *, session: Session) -> bool:
    """Whether the person's own key pays for a reply of this model (their key comes first; an
    operator's endpoint uses its own key, never a person's). A key the server can no longer read
    pays for nothing: the reply falls to another key, and counts."""
    return model.key_env is None and keys.has_usable_key(person.id, model.provider, session=session)


def within_monthly_allowance(person: User, *, session: Session) -> bool:
    """Whether the person has some of this month's allowance left (or none is set)."""
    allowance = limits_for(person).monthly_spend
    return not allowance or spent_this_month(person.id, session=session) < allowance


def check_before_reply(person: User, model: CatalogModel, *, session: Session) -> bool:
    """Refuse, with LimitReached, a reply or generation the person's budget does not allow; else
    count it in their minute and say whether their own key pays for it.

    Call before the reply's rows are written, in their transaction: the person's row is held
    until it ends, so two sends at once cannot both take the last place in flight.
    """
    allowed = limits_for(person)
    if allowed.replies_in_flight or allowed.monthly_spend:
        _hold(person, session=session)  # else nothing here is counted: sends need not queue
    if allowed.replies_in_flight:
        in_flight = running(person.id, session=session)
        if in_flight >= allowed.replies_in_flight:
            raise LimitReached(
                f"You have {_replies(in_flight)} in flight, the most you may have at once; "
                "wait for one to finish.",
                limit=REPLIES_IN_FLIGHT,
            )
    own_key = pays_with_own_key(person, model, session=session)
    if allowed.monthly_spend and not own_key:
        now = utcnow()
        spent = spent_this_month(person.id, session=session, now=now)
        if spent >= allowed.monthly_spend:
            resets = next_month_start(now)
            raise LimitReached(
                f"You have used {_dollars(spent)} of your {_dollars(allowed.monthly_spend)} monthly "
                f"allowance; it resets on {_day_and_month(resets)}. Replies paid with your own API "
                "key (Settings) do not count.",
                limit=MONTHLY_SPEND,
                retry_after=math.ceil((resets - now).total_seconds()),
            )
    count_request(person, allowed)  # last: a request refused above is not counted
    return own_key


@dataclass(frozen=True)
class ApiCall:
    """A call through the API that its person's budget allowed."""

    person_id: uuid.UUID
    own_key: bool  # the person's own key pays: the call leaves their monthly allowance alone
    slot: str | None  # its place among the person's replies in flight (None: they have no such limit)


def check_before_api_call(person: User, model: CatalogModel, *, session: Session) -> ApiCall:
    """`check_before_reply` for a call through the API. No row tracks such a call while it runs,
    so it holds a slot among the person's replies in flight until `end_api_call` (or, should its
    worker die first, for the longest a reply may take). Taken while the person's row is held,
    like the count it is checked against."""
    own_key = check_before_reply(person, model, session=session)
    if not limits_for(person).replies_in_flight:
        return ApiCall(person.id, own_key, None)
    longest = get_settings().total_timeout + 60  # our deadline on every stream, and a margin
    return ApiCall(person.id, own_key, limits.start(API_CALLS, str(person.id), longest))


def end_api_call(call: ApiCall) -> None:
    if call.slot is not None:
        limits.finish(API_CALLS, str(call.person_id), call.slot)


def _hold(person: User, *, session: Session) -> None:
    """Take the person's row for this transaction (a write, so SQLite queues it too)."""
    session.execute(
        sa.update(User).where(col(User.id) == person.id).values(disabled=User.disabled),
        execution_options={"synchronize_session": False},
    )


def _replies(count: int) -> str:
    return f"{count} reply" if count == 1 else f"{count} replies"


def _dollars(amount: float) -> str:
    return money(amount) or "$0.00"


# ----- costs that outlive their messages ----------------------------------------------------------


def keep_spend_of_reply(reply: Message, *, session: Session) -> None:
    """A reply about to be regenerated: what it cost still counts against its asker's month."""
    if reply.cost and reply.author_id is not None:
        session.add(
            SpendRecord(
                user_id=reply.author_id,
                amount=reply.cost,
                paid_with_own_key=reply.paid_with_own_key,
                spent_at=reply.updated_at,
            )
        )


def keep_spend_of_chat(chat_id: uuid.UUID, *, session: Session) -> None:
    """A chat about to be deleted: this month's costs of its replies, per asker, are kept."""
    rows = session.execute(
        sa.select(
            col(Message.author_id),
            col(Message.paid_with_own_key),
            sa.func.sum(Message.cost),
            sa.func.max(Message.updated_at),
        )
        .where(
            col(Message.chat_id) == chat_id,
            col(Message.author_id).is_not(None),
            col(Message.cost) > 0,
            col(Message.updated_at) >= month_start(),
        )
        .group_by(col(Message.author_id), col(Message.paid_with_own_key))
    ).all()
    session.add_all(
        SpendRecord(user_id=author, amount=float(amount), paid_with_own_key=own, spent_at=at)
        for author, own, amount, at in rows
    )


# ----- what the settings page shows ---------------------------------------------------------------


class BudgetStanding(TypedDict):
    """A person's use against their limits, as numbers (0 limit: none) and as words."""

    replies_in_flight: int
    replies_in_flight_limit: int
    requests_this_minute: int
    requests_per_minute_limit: int
    requests_reset_in: int  # seconds
    spent_this_month: float
    monthly_spend_limit: float
    replies_in_flight_label: str
    requests_label: str
    spend_label: str
    spend_resets: str  # "1 January"


def standing(person: User, *, session: Session) -> BudgetStanding:
    allowed = limits_for(person)
    in_flight = running(person.id, session=session)
    minute = requests_this_minute(person)
    used = minute.used if minute else 0
    spent = spent_this_month(person.id, session=session)
    return BudgetStanding(
        replies_in_flight=in_flight,
        replies_in_flight_limit=allowed.replies_in_flight,
        requests_this_minute=used,
        requests_per_minute_limit=allowed.requests_per_minute,
        requests_reset_in=minute.resets_in if minute and used else 0,
        spent_this_month=spent,
        monthly_spend_limit=allowed.monthly_spend,
        replies_in_flight_label=_used_of(str(in_flight), allowed.replies_in_flight),
        requests_label=_used_of(str(used), allowed.requests_per_minute),
        spend_label=_used_of(_dollars(spent), allowed.monthly_spend, _dollars),
        spend_resets=_day_and_month(next_month_start()),
    )


def _used_of(used: str, limit: float, shown: Callable[[float], str] = "{:g}".format) -> str:
    """ "2 of 3", or "2 (no limit)" when the limit is 0."""
    return f"{used} of {shown(limit)}" if limit else f"{used} (no limit)"


def empty_standing() -> BudgetStanding:
    """What a page shows before it has loaded anything."""
    return BudgetStanding(
        replies_in_flight=0,
        replies_in_flight_limit=0,
        requests_this_minute=0,
        requests_per_minute_limit=0,
        requests_reset_in=0,
        spent_this_month=0.0,
        monthly_spend_limit=0.0,
        replies_in_flight_label="",
        requests_label="",
        spend_label="",
        spend_resets="",
    )
