"""Confirming that a password account owns its email address.

The link in the email only works for the account it was made for, opened while signed in
as that account: someone who registered another person's address cannot get it confirmed
by that person clicking a link they did not ask for.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from chat_app.models import User
from chat_app.services import mailer
from chat_app.services import sign_in_limits as limits_of
from chat_app.services.errors import Invalid
from chat_app.settings import get_settings

VALID_FOR = 3 * 24 * 3600  # seconds
Confirmation = tuple[str, str]  # the address and the link to send it


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="email-verification")


def token_for(user: User) -> str:
    return _serializer().dumps({"u": str(user.id), "e": user.email})


def link_for(user: User) -> str:
    return f"{get_settings().public_url}/api/auth/verify/{token_for(user)}"


def confirmation_to_send(user: User) -> Confirmation | None:
    """The (address, link) of the confirmation email `user` should get, or None when there is
    none to send: the address is confirmed already, or this server sends no email."""
    if user.email_verified or not mailer.enabled():
        return None
    return user.email, link_for(user)


def confirmation_to_resend(user: User, *, client: str | None = None) -> Confirmation | None:
    """Like confirmation_to_send, for a person asking again: limited per address and per client,
    so nobody can fill a mailbox (their own account's address may be someone else's)."""
    confirmation = confirmation_to_send(user)
    if confirmation is not None:
        limits_of.take_each(limits_of.confirmation_emails(user.email, client))
    return confirmation


def confirm(actor: User, token: str, *, session: Session, max_age: int = VALID_FOR) -> None:
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise Invalid(
            "This confirmation link has expired. Send a new one from Settings.", code="expired"
        ) from None
    except BadSignature:
        raise Invalid("This confirmation link is not valid.", code="invalid") from None
    if payload.get("u") != str(actor.id) or payload.get("e") != actor.email:
        raise Invalid(
            "This confirmation link is for another account. Sign in with the address it was sent to.",
            code="other_account",
        )
    actor.email_verified = True
    session.add(actor)


def send(email: str, link: str) -> bool:
    """Email the confirmation link (blocking; run off the event loop, after the commit)."""
    text = (
        f"Confirm that {email} is your address by opening this link while signed in:\n{link}\n\n"
        "Confirmed addresses get the chats people share with them.\n\n"
        "If you did not create an account, ignore this message."
    )
    return mailer.send(email, "Confirm your email address", text, link=link)
