"""The operator's powers: people with their use and spend, limits, disabling."""

from datetime import timedelta

import pytest

from chat_app.models import Message, utcnow
from chat_app.services import access, accounts, admin, chats
from chat_app.services.errors import Forbidden, Invalid, NotFound
from tests.support.factories import make_chat, make_user


@pytest.fixture
def operator(session):
    return make_user(session)


def test_people_are_listed_with_what_they_use_a_page_at_a_time(session, operator, provider_env):
    people = [make_user(session) for _ in range(3)]
    busy = people[0]
    chat = make_chat(session, busy)
    session.add(Message(chat_id=chat.id, seq=1, role="assistant", author_id=busy.id, cost=1.5))
    session.commit()
    chats.post_message(busy, make_chat(session, busy).id, "hi", session=session)
    session.commit()
    page = admin.people(operator, session=session, offset=0, limit=2)
    assert page["total"] == 4 and page["offset"] == 0 and page["limit"] == 2
    assert [p["email"] for p in page["people"]] == [operator.email, busy.email]
    me, them = page["people"]
    assert me["is_admin"] and not them["is_admin"]
    assert (
        them["replies_in_flight"] == 1 and them["spent_this_month"] == 1.5 and them["spent_label"] == "$1.50"
    )
    assert them["limits"] == {"replies_in_flight": 3, "requests_per_minute": 30, "monthly_spend": 10.0}
    assert them["overrides"] == {
        "replies_in_flight": None,
        "requests_per_minute": None,
        "monthly_spend": None,
    }
    rest = admin.people(operator, session=session, offset=2, limit=2)
    assert [p["email"] for p in rest["people"]] == [people[1].email, people[2].email]


def test_limits_are_set_per_person_and_back_to_the_default_with_none(session, operator):
    person = make_user(session)
    shown = admin.update_person(
        operator,
        str(person.id),
        {"replies_in_flight": 1, "requests_per_minute": 0, "monthly_spend": 2.5},
        session=session,
    )
    assert shown["limits"] == {"replies_in_flight": 1, "requests_per_minute": 0, "monthly_spend": 2.5}
    shown = admin.update_person(operator, str(person.id), {"monthly_spend": None}, session=session)
    assert shown["overrides"]["monthly_spend"] is None and shown["limits"]["monthly_spend"] == 10.0
    assert shown["overrides"]["replies_in_flight"] == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"replies_in_flight": -1},
        {"replies_in_flight": 1.5},
        {"replies_in_flight": "3"},
        {"replies_in_flight": True},
        {"monthly_spend": float("nan")},
        {"monthly_spend": 10**12},
        {"disabled": "yes"},
        {"is_admin": "yes"},
        {"is_admin": 1},
        {"owner": True},
    ],
)
def test_a_change_that_means_nothing_is_refused_whole(session, operator, changes):
    person = make_user(session)
    with pytest.raises(Invalid):
        admin.update_person(operator, str(person.id), {"requests_per_minute": 5, **changes}, session=session)
    session.rollback()
    assert person.max_requests_per_minute is None and not person.is_admin


def test_disabling_ends_every_session_and_sign_in(session, operator):
    person = make_user(session, password="correct horse")
    tokens = [accounts.create_session(person, session=session) for _ in range(2)]
    session.commit()
    admin.update_person(operator, str(person.id), {"disabled": True}, session=session)
    session.commit()
    assert all(accounts.user_for_token(t, session=session) is None for t in tokens)
    with pytest.raises(Invalid) as refused:
        accounts.authenticate(person.email, "correct horse", session=session)
    assert refused.value.code == "disabled"
    admin.update_person(operator, str(person.id), {"disabled": False}, session=session)
    session.commit()
    assert accounts.user_for_token(tokens[0], session=session) is None  # ended for good
    assert accounts.authenticate(person.email, "correct horse", session=session).id == person.id


def test_a_disabled_account_cannot_sign_in_with_a_provider(session, operator):
    person = make_user(session)
    admin.update_person(operator, str(person.id), {"disabled": True}, session=session)
    with pytest.raises(Invalid):
        accounts.user_for_oidc(person.email, True, session=session)


def test_a_session_of_a_disabled_account_is_refused_even_unrevoked(session, operator):
    person = make_user(session)
    token = accounts.create_session(person, session=session, days=1)
    person.disabled = True
    session.commit()
    assert accounts.user_for_token(token, session=session, now=utcnow() + timedelta(seconds=1)) is None


def test_an_administrator_cannot_disable_themselves_and_an_unknown_id_is_not_found(session, operator):
    with pytest.raises(Invalid):
        admin.update_person(operator, str(operator.id), {"disabled": True}, session=session)
    for unknown in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(NotFound):
            admin.update_person(operator, unknown, {"disabled": True}, session=session)


def test_a_disabled_administrator_is_nobodys_administrator(session, operator):
    second = make_user(session)
    second.is_admin = True
    admin.update_person(operator, str(second.id), {"disabled": True}, session=session)
    with pytest.raises(Forbidden):
        admin.people(second, session=session)


def test_nobody_else_lists_or_changes_people(session, operator):
    someone = make_user(session)
    with pytest.raises(Forbidden):
        admin.people(someone, session=session)
    with pytest.raises(Forbidden):
        admin.update_person(someone, str(operator.id), {"disabled": True}, session=session)
    assert not operator.disabled


def test_an_administrator_gives_and_takes_the_role(session, operator):
    person = make_user(session)
    assert admin.update_person(operator, str(person.id), {"is_admin": True}, session=session)["is_admin"]
    admin.people(person, session=session)  # now theirs to use
    view = admin.update_person(person, str(operator.id), {"is_admin": False}, session=session)
    assert not view["is_admin"]
    with pytest.raises(Forbidden):
        admin.people(operator, session=session)


def test_nobody_takes_their_own_role_nor_one_the_settings_give(session, operator, configure):
    with pytest.raises(Invalid, match="your own administrator role"):
        admin.update_person(operator, str(operator.id), {"is_admin": False}, session=session)
    named = make_user(session, email="boss@example.com")
    named.email_verified = True
    configure(ADMIN_EMAILS="boss@example.com")
    with pytest.raises(Invalid, match="ADMIN_EMAILS"):
        admin.update_person(operator, str(named.id), {"is_admin": False}, session=session)
    assert access.is_admin(operator) and access.is_admin(named)
