"""The admin page: people with their use and spend, their limits, disabling, registration.

The services refuse anyone but an administrator; the page then shows only that refusal.
"""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from chat_app.services import admin, budgets, registration
from chat_app.services.errors import DomainError, Forbidden
from chat_app.state.auth import AuthState, Refused

PAGE_SIZE = 50


class PersonRow(TypedDict):
    """One account as the page shows it; a limit's field holds the override ("" for the default)."""

    id: str
    email: str
    is_admin: bool
    disabled: bool
    replies_in_flight: int
    spent_label: str
    limits_label: str  # what holds now
    replies_in_flight_override: str
    requests_per_minute_override: str
    monthly_spend_override: str


def _shown(value: int | float | None) -> str:
    return "" if value is None else f"{value:g}"


def person_row(person: admin.PersonView) -> PersonRow:
    limits, overrides = person["limits"], person["overrides"]
    at_once, a_minute, a_month = (
        limits["replies_in_flight"],
        limits["requests_per_minute"],
        limits["monthly_spend"],
    )
    return PersonRow(
        id=person["id"],
        email=person["email"],
        is_admin=person["is_admin"],
        disabled=person["disabled"],
        replies_in_flight=person["replies_in_flight"],
        spent_label=person["spent_label"],
        limits_label=" · ".join(
            [
                f"{at_once} at once" if at_once else "any number at once",
                f"{a_minute} a minute" if a_minute else "any number a minute",
                f"${a_month:,.2f} a month" if a_month else "no monthly limit",
            ]
        ),
        replies_in_flight_override=_shown(overrides["replies_in_flight"]),
        requests_per_minute_override=_shown(overrides["requests_per_minute"]),
        monthly_spend_override=_shown(overrides["monthly_spend"]),
    )


def limit_changes(form_data: dict) -> dict[str, int | float | None]:
    """The limits typed into a person's row: blank is the default; what is not a number is sent
    on as it is, for the service to refuse with its sentence."""
    changes: dict = {}
    for name in (budgets.REPLIES_IN_FLIGHT, budgets.REQUESTS_PER_MINUTE, budgets.MONTHLY_SPEND):
        raw = str(form_data.get(name, "")).strip().lstrip("$")
        try:
            changes[name] = None if raw == "" else float(raw)
        except ValueError:
            changes[name] = raw
    return changes


class AdminState(AuthState):
    people: rx.Field[list[PersonRow]] = rx.field(default_factory=list)
    total: rx.Field[int] = rx.field(0)
    offset: rx.Field[int] = rx.field(0)
    registration_mode: rx.Field[str] = rx.field("open")
    registration_domains: rx.Field[str] = rx.field("")
    refused: rx.Field[str] = rx.field("")  # not an administrator: the page says so and shows nothing

    def _refusal(self, exc: DomainError):
        if isinstance(exc, Forbidden):  # not (or no longer) an administrator
            self._forget(str(exc))
        return super()._refusal(exc)

    def _forget(self, why: str) -> None:
        self.people, self.total, self.offset = [], 0, 0
        self.registration_mode, self.registration_domains = "open", ""
        self.refused = why

    def _show_policy(self, policy: registration.RegistrationPolicy) -> None:
        self.registration_mode = policy["mode"]
        self.registration_domains = ", ".join(policy["domains"])

    @rx.event
    async def load_admin(self):
        return await self._load(0)

    async def _load(self, offset: int):
        result = await self._act(
            lambda user, session: (
                user.email,
                admin.people(user, session=session, offset=offset, limit=PAGE_SIZE),
                registration.policy(user, session=session),
            )
        )
        if isinstance(result, Refused):
            return result.effect
        self.user_email, page, policy = result
        self.refused = ""
        self.people = [person_row(p) for p in page["people"]]
        self.total, self.offset = page["total"], page["offset"]
        self._show_policy(policy)

    @rx.event
    async def next_page(self):
        if self.offset + PAGE_SIZE < self.total:
            return await self._load(self.offset + PAGE_SIZE)

    @rx.event
    async def previous_page(self):
        return await self._load(max(self.offset - PAGE_SIZE, 0))

    async def _change(self, person_id: str, changes: dict, done: str):
        result = await self._act(
            lambda user, session: admin.update_person(user, person_id, changes, session=session)
        )
        if isinstance(result, Refused):
            return result.effect
        row = person_row(result)
        self.people = [row if p["id"] == person_id else p for p in self.people]
        return rx.toast.success(done)

    @rx.event
    async def save_limits(self, form_data: dict):
        person_id = str(form_data.get("person_id", ""))
        return await self._change(person_id, limit_changes(form_data), "Limits saved.")

    @rx.event
    async def set_disabled(self, person_id: str, disabled: bool):
        done = "Account disabled: its sessions have ended." if disabled else "Account enabled."
        return await self._change(person_id, {"disabled": disabled}, done)

    @rx.event
    async def set_admin(self, person_id: str, is_admin: bool):
        done = "Now an administrator." if is_admin else "No longer an administrator."
        return await self._change(person_id, {"is_admin": is_admin}, done)

    @rx.event
    async def save_registration(self, form_data: dict):
        mode = str(form_data.get("mode", ""))
        domains = [
            d.strip() for d in str(form_data.get("domains", "")).replace(" ", ",").split(",") if d.strip()
        ]
        result = await self._act(
            lambda user, session: registration.set_policy(user, mode, domains, session=session)
        )
        if isinstance(result, Refused):
            return result.effect
        self._show_policy(result)
        return rx.toast.success("Registration saved.")

    @rx.event
    def choose_registration_mode(self, mode: str):
        self.registration_mode = mode
