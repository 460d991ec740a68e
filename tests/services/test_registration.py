"""Who may open an account: the first one is the operator; registration is open, closed, or open
to some domains, for a password and a provider's sign-in alike."""

import threading

import pytest
from sqlmodel import Session

from chat_app.services import accounts, registration
from chat_app.services.errors import Forbidden, Invalid
from tests.support.factories import make_user


def test_the_first_account_is_the_administrator_and_no_other(session):
    first, second = make_user(session), make_user(session)
    assert first.is_admin and not second.is_admin


def test_named_administrators_replace_the_first_account_rule(session, configure):
    configure(ADMIN_EMAILS="Boss@Example.com, other@example.com")
    first = make_user(session)
    assert not first.is_admin


@pytest.mark.parametrize(
    ("rule", "email", "allowed"),
    [
        ("open", "anyone@example.net", True),
        ("closed", "anyone@example.net", False),
        ("example.org,example.com", "someone@example.com", True),
        ("example.org,example.com", "someone@evil-example.com", False),
        ("example.org", "someone@sub.example.org", False),
    ],
)
def test_the_registration_setting(session, configure, rule, email, allowed):
    make_user(session)  # the operator
    configure(REGISTRATION=rule)
    if allowed:
        assert accounts.register(email, "correct horse", session=session).email == email
    else:
        with pytest.raises(Invalid) as refused:
            accounts.register(email, "correct horse", session=session)
        assert refused.value.code == "registration_closed"
        assert accounts.find_user(email, session=session) is None


def test_closed_registration_still_lets_in_the_operator(session, configure):
    configure(REGISTRATION="closed")
    assert make_user(session).is_admin  # the very first account, with no address named
    configure(REGISTRATION="closed", ADMIN_EMAILS="boss@example.com")
    assert accounts.register("boss@example.com", "correct horse", session=session)


def test_an_administrator_sets_the_policy_which_wins_over_the_setting(session, configure):
    configure(REGISTRATION="closed")
    operator, _ = make_user(session), None
    assert registration.policy(operator, session=session) == {"mode": "closed", "domains": []}
    saved = registration.set_policy(operator, "domains", ["Example.org", "@example.com"], session=session)
    assert saved == {"mode": "domains", "domains": ["example.org", "example.com"]}
    session.commit()
    accounts.register("new@example.com", "correct horse", session=session)
    with pytest.raises(Invalid):
        accounts.register("new@example.net", "correct horse", session=session)
    assert registration.set_policy(operator, "open", [], session=session)["mode"] == "open"
    accounts.register("new@example.net", "correct horse", session=session)


@pytest.mark.parametrize(
    ("mode", "domains"),
    [("sometimes", []), ("domains", []), ("domains", ["not a domain"]), ("domains", ["open"])],
)
def test_a_policy_that_means_nothing_is_refused(session, mode, domains):
    operator = make_user(session)
    with pytest.raises(Invalid):
        registration.set_policy(operator, mode, domains, session=session)


def test_only_an_administrator_sees_or_sets_the_policy(session):
    make_user(session)
    someone = make_user(session)
    with pytest.raises(Forbidden):
        registration.policy(someone, session=session)
    with pytest.raises(Forbidden):
        registration.set_policy(someone, "open", [], session=session)


def test_a_providers_sign_in_follows_the_policy_for_new_accounts_only(session, configure):
    existing = make_user(session)
    configure(REGISTRATION="closed")
    with pytest.raises(Invalid) as refused:
        accounts.user_for_oidc("newcomer@example.com", True, session=session)
    assert refused.value.code == "registration_closed"
    assert accounts.user_for_oidc(existing.email, True, session=session).id == existing.id


def test_two_first_registrations_at_once_make_one_administrator(engine):
    """The second waits for the first's transaction, then sees an account exists."""
    first = Session(engine, expire_on_commit=False)
    made = registration.new_account("first@example.com", session=first)
    first.add(made)
    first.flush()  # in the first transaction, not yet committed
    outcome: list[bool] = []

    def second_registration() -> None:
        with Session(engine) as second:
            outcome.append(registration.new_account("second@example.com", session=second).is_admin)

    waiting = threading.Thread(target=second_registration)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive() and not outcome  # held until the first one ends
    first.commit()
    first.close()
    waiting.join(10)
    assert made.is_admin and outcome == [False]
