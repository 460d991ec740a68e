"""The operator's powers over people: see them with their use and spend, change their limits,
disable an account (its sessions end at once). Every function asks access.require_admin first."""

from __future__ import annotations

import math
import uuid
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlmodel import Session, col, select

from chat_app.models import User
from chat_app.services import access, accounts, budgets
from chat_app.services.errors import Invalid, NotFound
from chat_app.services.views import money

MAX_PAGE = 200


class LimitsView(TypedDict):
    replies_in_flight: int
    requests_per_minute: int
    monthly_spend: float


class OverridesView(TypedDict):
    """An administrator's own choices for the person; None: the operator's default."""

    replies_in_flight: int | None
    requests_per_minute: int | None
    monthly_spend: float | None


class PersonView(TypedDict):
    id: str
    email: str
    created_at: str
    email_verified: bool
    is_admin: bool
    disabled: bool
    replies_in_flight: int
    spent_this_month: float
    spent_label: str
    limits: LimitsView  # what holds now (0: no limit)
    overrides: OverridesView


class PeoplePage(TypedDict):
    people: list[PersonView]
    total: int
    offset: int
    limit: int


def people(actor: User, *, session: Session, offset: int = 0, limit: int = 50) -> PeoplePage:
    """A page of accounts, oldest first, each with what it uses now (three queries a page)."""
    access.require_admin(actor)
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"Ask for 1 to {MAX_PAGE} people at a time, from offset 0 on.")
    total = session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one()
    rows = list(
        session.exec(select(User).order_by(col(User.created_at), col(User.id)).offset(offset).limit(limit))
    )
    ids = [u.id for u in rows]
    running = budgets.replies_in_flight_by(ids, session=session)
    spent = budgets.spent_this_month_by(ids, session=session)
    return PeoplePage(
        people=[_view(u, running.get(u.id, 0), spent.get(u.id, 0.0)) for u in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


def _view(person: User, running: int, spent: float) -> PersonView:
    allowed = budgets.limits_for(person)
    return PersonView(
        id=str(person.id),
        email=person.email,
        created_at=person.created_at.isoformat(),
        email_verified=person.email_verified,
        is_admin=access.is_admin(person),
        disabled=person.disabled,
        replies_in_flight=running,
        spent_this_month=spent,
        spent_label=money(spent) or "$0.00",
        limits=LimitsView(
            replies_in_flight=allowed.replies_in_flight,
            requests_per_minute=allowed.requests_per_minute,
            monthly_spend=allowed.monthly_spend,
        ),
        overrides=OverridesView(
            replies_in_flight=person.max_replies_in_flight,
            requests_per_minute=person.max_requests_per_minute,
            monthly_spend=person.monthly_spend_limit,
        ),
    )


# What an administrator may change, by its name in a request: the column and what it holds.
_OVERRIDES = {
    budgets.REPLIES_IN_FLIGHT: ("max_replies_in_flight", int),
    budgets.REQUESTS_PER_MINUTE: ("max_requests_per_minute", int),
    budgets.MONTHLY_SPEND: ("monthly_spend_limit", float),
}
CHANGEABLE = (*_OVERRIDES, "disabled", "is_admin")
_MOST = {int: 1_000_000, float: 1_000_000.0}  # well within the columns, far above any real limit


def update_person(actor: User, person_id: str, changes: dict[str, Any], *, session: Session) -> PersonView:
    """Set a person's limits (a number, 0 for none, or None for the default), disable them, or
    give or take their administrator role.

    Checked whole before anything changes. Disabling ends the person's sessions at once, and the
    replies they have in flight within a second (each worker's reaper stops its own). Nobody takes
    away their own role or disables themselves: there is always an administrator left who can
    undo a change.
    """
    access.require_admin(actor)
    person = _person(person_id, session=session)
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise Invalid(f"{sorted(unknown)[0]!r} cannot be changed: change {', '.join(CHANGEABLE)}.")
    values = {_OVERRIDES[name][0]: _limit(name, changes[name]) for name in _OVERRIDES if name in changes}
    if "disabled" in changes:
        if not isinstance(changes["disabled"], bool):
            raise Invalid("Send `disabled` as true or false.")
        if changes["disabled"] and person.id == actor.id:
            raise Invalid("You cannot disable your own account.")
        values["disabled"] = changes["disabled"]
    if "is_admin" in changes:
        values["is_admin"] = _role_change(actor, person, changes["is_admin"])
    for column, value in values.items():
        setattr(person, column, value)
    session.add(person)
    if values.get("disabled"):
        accounts.end_other_sessions(person, None, session=session)  # every session, at once
    session.flush()
    return _view(
        person,
        budgets.replies_in_flight(person.id, session=session),
        budgets.spent_this_month(person.id, session=session),
    )


def _role_change(actor: User, person: User, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("Send `is_admin` as true or false.")
    if not value and person.id == actor.id:
        raise Invalid("You cannot remove your own administrator role; another administrator can.")
    if not value and access.is_admin_by_setting(person):
        raise Invalid(f"{person.email} is an administrator through ADMIN_EMAILS; remove the address there.")
    return value


def _limit(name: str, value: Any) -> int | float | None:
    _column, kind = _OVERRIDES[name]
    if value is None:
        return None
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not whole):
        noun = "a whole number" if kind is int else "an amount in dollars"
        raise Invalid(f"Send `{name}` as {noun} (0 for no limit), or null for the default.")
    if not math.isfinite(value) or not 0 <= value <= _MOST[kind]:
        raise Invalid(f"Send `{name}` as a number from 0 to {_MOST[kind]:,}.")
    return kind(value)


def _person(person_id: str, *, session: Session) -> User:
    try:
        person = session.get(User, uuid.UUID(str(person_id)))
    except ValueError:
        person = None
    if person is None:
        raise NotFound("There is no such account.")
    return person
