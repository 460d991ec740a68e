"""Attempts counted before they are made: a refusal costs nothing, a success gives its count back."""

import pytest

from chat_app.services import limits, sign_in_limits
from chat_app.services.errors import TooManyAttempts

TWO = limits.Limit("test-two", count=2, per=60, refusal="Two at most.")
FIVE = limits.Limit("test-five", count=5, per=60, refusal="Five at most.")


def test_one_refusal_counts_none_of_the_others():
    limits.take(TWO, "k")
    limits.take(TWO, "k")
    with pytest.raises(TooManyAttempts, match="Two at most."):
        sign_in_limits.take_each([(FIVE, "k"), (TWO, "k")])
    assert limits.usage(FIVE, "k").used == 0


def test_only_failures_use_a_limit_up():
    with sign_in_limits.counted_unless_it_succeeds([(TWO, "k")]):
        assert limits.usage(TWO, "k").used == 1  # counted while the attempt runs
    assert limits.usage(TWO, "k").used == 0
    for _ in range(2):
        with pytest.raises(ValueError), sign_in_limits.counted_unless_it_succeeds([(TWO, "k")]):
            raise ValueError("wrong password")
    with pytest.raises(TooManyAttempts), sign_in_limits.counted_unless_it_succeeds([(TWO, "k")]):
        pass


def test_the_client_limit_applies_only_when_the_client_is_known():
    assert sign_in_limits.sign_in_failures("a@example.com", None) == [
        (sign_in_limits.SIGN_IN_FAILURES_PER_ADDRESS, "a@example.com")
    ]
    (per_client, client), by_address = sign_in_limits.sign_in_failures("a@example.com", "203.0.113.9")
    assert (per_client.name, client) == ("sign-in:client", "203.0.113.9")
    assert by_address == (sign_in_limits.SIGN_IN_FAILURES_PER_ADDRESS, "a@example.com")
    assert sign_in_limits.taken_address_registrations(None) == []
