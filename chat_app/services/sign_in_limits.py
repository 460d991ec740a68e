"""How often people may try to sign in, register and ask for confirmation mail: per email address
and per client address, counted in services/limits.

Limits per email address are fixed: they concern one account whoever asks, and they apply to
addresses without an account too, so a refusal never tells whether an account exists. Limits per
client address are settings: the operator knows how many people share one address.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chat_app.services import limits
from chat_app.services.errors import TooManyAttempts
from chat_app.services.limits import Limit
from chat_app.settings import get_settings

FIFTEEN_MINUTES = 15 * 60
HOUR = 3600

SIGN_IN_FAILURES_PER_ADDRESS = Limit(
    "sign-in:address", count=10, per=FIFTEEN_MINUTES, refusal="Too many failed attempts for this address."
)
REGISTRATIONS_PER_ADDRESS = Limit(
    "register:address", count=10, per=FIFTEEN_MINUTES, refusal="Too many attempts for this address."
)
CONFIRMATION_EMAILS_PER_ADDRESS = Limit(
    "confirm-mail:address", count=5, per=HOUR, refusal="Too many confirmation emails were asked for."
)


Counted = list[tuple[Limit, str]]


def take_each(counted: Counted) -> None:
    """Count one use of each (limit, key), or none of them when one refuses."""
    taken: Counted = []
    try:
        for limit, key in counted:
            limits.take(limit, key)
            taken.append((limit, key))
    except TooManyAttempts:
        give_back(taken)
        raise


def give_back(counted: Counted) -> None:
    """Uncount one use of each: what was counted up front turned out not to be what is limited."""
    for limit, key in counted:
        limits.give_back(limit, key)


@contextmanager
def counted_unless_it_succeeds(counted: Counted) -> Iterator[None]:
    """Count an attempt before it is made, so parallel attempts cannot all slip under a limit,
    and give the counts back when the block succeeds: only failures use a limit up."""
    take_each(counted)
    yield
    give_back(counted)


def _with_client(by_address: Counted, per_client: Limit, client: str | None) -> Counted:
    """The limits per email address, and the one per client when the client is known (a
    service called by a script or a test has none)."""
    return [(per_client, client), *by_address] if client else by_address


# What one attempt of each kind counts against. The limits per client are made when asked for,
# from the settings of the moment.


def sign_in_failures(address: str, client: str | None) -> Counted:
    """A password check: signing in, or proving the current password to change it."""
    per_client = Limit(
        "sign-in:client",
        count=get_settings().sign_in_failures_per_ip,
        per=FIFTEEN_MINUTES,
        refusal="Too many failed sign-ins from your network.",
    )
    return _with_client([(SIGN_IN_FAILURES_PER_ADDRESS, address)], per_client, client)


def registrations(address: str, client: str | None) -> Counted:
    per_client = Limit(
        "register:client",
        count=get_settings().registrations_per_ip,
        per=HOUR,
        refusal="Too many accounts were created from your network.",
    )
    return _with_client([(REGISTRATIONS_PER_ADDRESS, address)], per_client, client)


def taken_address_registrations(client: str | None) -> Counted:
    """Registrations refused because the address has an account: counted per client only."""
    per_client = Limit(
        "register-taken:client",
        count=get_settings().taken_address_registrations_per_ip,
        per=HOUR,
        refusal="Too many registrations from your network were refused.",
    )
    return _with_client([], per_client, client)


def confirmation_emails(address: str, client: str | None) -> Counted:
    per_client = Limit(
        "confirm-mail:client",
        count=get_settings().confirmation_emails_per_ip,
        per=HOUR,
        refusal="Too many confirmation emails were asked for from your network.",
    )
    return _with_client([(CONFIRMATION_EMAILS_PER_ADDRESS, address)], per_client, client)
