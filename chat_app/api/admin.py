"""The operator's API: people with their use and spend, their limits, disabling, registration.

Refused (403) to anyone but an administrator, by the services themselves (access.require_admin).
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.datastructures import QueryParams

from chat_app.api.endpoints import JsonObject, Router, whole_number
from chat_app.models import User
from chat_app.services import admin, registration
from chat_app.services.errors import Invalid

router = Router()


@router.get("/api/admin/people")
def list_people(user: User, session: Session, query: QueryParams) -> admin.PeoplePage:
    return admin.people(
        user, session=session, offset=whole_number(query, "offset", 0), limit=whole_number(query, "limit", 50)
    )


@router.patch("/api/admin/people/{person_id}")
def update_person(user: User, session: Session, person_id: str, body: JsonObject) -> admin.PersonView:
    """Limits (`replies_in_flight`, `requests_per_minute`, `monthly_spend`: a number, 0 for none,
    null for the default), `disabled` and `is_admin` (true or false)."""
    return admin.update_person(user, person_id, body, session=session)


@router.get("/api/admin/registration")
def registration_policy(user: User, session: Session) -> registration.RegistrationPolicy:
    return registration.policy(user, session=session)


@router.put("/api/admin/registration")
def set_registration_policy(
    user: User, session: Session, body: JsonObject
) -> registration.RegistrationPolicy:
    """`{"mode": "open" | "closed" | "domains", "domains": ["example.com"]}`"""
    domains = body.get("domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise Invalid("Send `domains` as a list of email domains.")
    return registration.set_policy(user, str(body.get("mode", "")), domains, session=session)
