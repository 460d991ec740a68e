"""Who may open an account, and what a new account starts as.

Registration is open, closed, or open to some email domains: REGISTRATION says which until an
administrator sets it on the admin page (kept in the database, for every worker). It holds for
every way in, a password or a provider's sign-in. Whatever it says, the addresses ADMIN_EMAILS
names may always register, and so may the first account when no address is named: otherwise a
closed install could never get its operator.
"""

from __future__ import annotations

from typing import Literal, TypedDict

import sqlalchemy as sa
from sqlmodel import Session, select

from chat_app.models import SiteSetting, User, utcnow
from chat_app.services import access
from chat_app.services.errors import Invalid
from chat_app.settings import get_settings, registration_rule

_KEY = "registration"
_FIRST_ACCOUNT_LOCK = 0x0F125AC7  # a PostgreSQL advisory lock's key: "the first account"
CLOSED = "Registration is closed on this server. Ask its administrator for an account."

Mode = Literal["open", "closed", "domains"]


class RegistrationPolicy(TypedDict):
    mode: Mode
    domains: list[str]  # with mode "domains": the email domains that may register


def _rule(*, session: Session) -> str:
    saved = session.get(SiteSetting, _KEY)
    return saved.value if saved is not None else get_settings().registration


def _policy_of(rule: str) -> RegistrationPolicy:
    if rule in ("open", "closed"):
        return RegistrationPolicy(mode=rule, domains=[])
    return RegistrationPolicy(mode="domains", domains=rule.split(","))


def policy(actor: User, *, session: Session) -> RegistrationPolicy:
    access.require_admin(actor)
    return _policy_of(_rule(session=session))


def set_policy(actor: User, mode: str, domains: list[str], *, session: Session) -> RegistrationPolicy:
    """An administrator opens or closes registration, or opens it to some email domains."""
    access.require_admin(actor)
    if mode not in ("open", "closed", "domains"):
        raise Invalid("Choose open, closed or domains for registration.")
    try:
        rule = registration_rule(mode if mode != "domains" else ",".join(domains))
    except ValueError:
        raise Invalid("Give the email domains that may register, such as example.com.") from None
    if mode == "domains" and rule in ("open", "closed"):
        raise Invalid("Give the email domains that may register, such as example.com.")
    saved = session.get(SiteSetting, _KEY) or SiteSetting(key=_KEY, value=rule)
    saved.value, saved.updated_at = rule, utcnow()
    session.add(saved)
    return _policy_of(rule)


def new_account(email: str, *, session: Session) -> User:
    """An unsaved account for `email` (normalized), or Invalid when registration is closed to it.

    The first account is an administrator, unless ADMIN_EMAILS names them.
    """
    named = get_settings().admin_emails
    first = not named and _no_account_yet(session=session)
    if not (first or email in named or _admits(_rule(session=session), email)):
        raise Invalid(CLOSED, code="registration_closed")
    return User(email=email, is_admin=first)


def _no_account_yet(*, session: Session) -> bool:
    """Whether the account about to be made is the first. Registrations that find no account wait
    for each other's transaction and look again, so two at once cannot both become the first."""
    if session.exec(select(User.id).limit(1)).first() is not None:
        return False
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FIRST_ACCOUNT_LOCK})
    else:  # a write takes SQLite's one writer lock, held until this transaction ends
        session.execute(sa.update(User).where(sa.false()).values(email=User.email))
    return session.exec(select(User.id).limit(1)).first() is None


def _admits(rule: str, email: str) -> bool:
    if rule in ("open", "closed"):
        return rule == "open"
    return email.rsplit("@", 1)[-1] in rule.split(",")
