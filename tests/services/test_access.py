import pytest

from chat_app.models import SharedAccess
from chat_app.services import access, admin, registration
from chat_app.services.access import Role
from chat_app.services.chats import new_share_token
from chat_app.services.errors import Forbidden, NotFound
from tests.support.factories import make_chat, make_user


@pytest.fixture
def world(session):
    owner, editor, viewer, stranger = (make_user(session) for _ in range(4))
    for u in (editor, viewer):
        u.email_verified = True
        session.add(u)
    chat = make_chat(session, owner)
    session.add(SharedAccess(chat_id=chat.id, email=editor.email, can_edit=True))
    session.add(SharedAccess(chat_id=chat.id, email=viewer.email, can_edit=False))
    session.commit()
    return {
        "owner": owner,
        "editor": editor,
        "viewer": viewer,
        "stranger": stranger,
        "anonymous": None,
        "chat": chat,
    }


@pytest.mark.parametrize(
    ("actor", "public", "link", "expected"),
    [
        ("owner", False, "", Role.owner),
        ("editor", False, "", Role.editor),
        ("viewer", False, "", Role.viewer),
        ("stranger", False, "", Role.none),
        ("anonymous", False, "", Role.none),
        ("stranger", False, "current", Role.none),  # a private chat's link lets no one in by itself
        ("stranger", True, "current", Role.viewer),
        ("anonymous", True, "current", Role.viewer),
        ("editor", True, "", Role.editor),
        ("viewer", True, "stale", Role.viewer),  # members need no link
        # a public chat is read through its current link alone: not by its id, not by an old link
        ("stranger", True, "", Role.none),
        ("anonymous", True, "", Role.none),
        ("stranger", True, "stale", Role.none),
        ("anonymous", True, "stale", Role.none),
    ],
)
def test_role_for(session, world, actor, public, link, expected):
    chat = world["chat"]
    chat.is_public = public
    token = {"": None, "current": chat.share_token, "stale": new_share_token()}[link]
    assert access.role_for(world[actor], chat, session=session, link_token=token) is expected


@pytest.mark.parametrize(
    ("actor", "action", "outcome"),
    [
        ("owner", "delete", None),
        ("editor", "post", None),
        ("viewer", "read", None),
        ("viewer", "post", Forbidden),
        ("editor", "rename", Forbidden),
        ("stranger", "read", NotFound),
        ("anonymous", "read", NotFound),
    ],
)
def test_authorize(session, world, actor, action, outcome):
    if outcome is None:
        chat, _ = access.authorize(world[actor], world["chat"].id, action, session=session)
        assert chat.id == world["chat"].id
    else:
        with pytest.raises(outcome):
            access.authorize(world[actor], world["chat"].id, action, session=session)


@pytest.mark.parametrize("role", list(Role))
def test_permissions_shown_to_a_page_are_the_rule_itself(session, world, role):
    """Every flag a page gets says what `authorize` would allow: the page cannot offer more or less."""
    flags = access.permissions(role)
    actor = {Role.owner: "owner", Role.editor: "editor", Role.viewer: "viewer", Role.none: "stranger"}[role]
    for action in ("post", "stop", "share", "rename", "delete", "set_model"):
        try:
            access.authorize(world[actor], world["chat"].id, action, session=session)
            allowed = True
        except (Forbidden, NotFound):
            allowed = False
        assert getattr(flags, f"can_{action}") is allowed, action


def test_a_new_chat_is_its_writers_own():
    assert access.permissions(Role.owner) == access.NEW_CHAT
    assert access.NEW_CHAT.can_post and access.NEW_CHAT.can_set_model


# ----- the operator role ------------------------------------------------------------------------

# Every operator's action, as the admin page and API call it.
ADMIN_ACTIONS = {
    "list people": lambda actor, person, session: admin.people(actor, session=session),
    "change limits": lambda actor, person, session: admin.update_person(
        actor, str(person.id), {"monthly_spend": 1}, session=session
    ),
    "disable": lambda actor, person, session: admin.update_person(
        actor, str(person.id), {"disabled": True}, session=session
    ),
    "give the role": lambda actor, person, session: admin.update_person(
        actor, str(person.id), {"is_admin": True}, session=session
    ),
    "see registration": lambda actor, person, session: registration.policy(actor, session=session),
    "set registration": lambda actor, person, session: registration.set_policy(
        actor, "closed", [], session=session
    ),
}


@pytest.fixture
def operators(session, configure):
    configure(ADMIN_EMAILS="named@example.com,unconfirmed@example.com")
    first = make_user(session)  # not an administrator by itself: ADMIN_EMAILS names them
    first.is_admin = True  # made one by hand (as the first account, or the migration, makes one)
    named = make_user(session, "named@example.com")
    named.email_verified = True
    disabled = make_user(session)
    disabled.is_admin = disabled.disabled = True
    session.commit()
    return {
        "admin": first,
        "named admin": named,
        "named, unconfirmed": make_user(session, "unconfirmed@example.com"),
        "disabled admin": disabled,
        "ordinary user": make_user(session),
        "signed out": None,
    }


@pytest.mark.parametrize("action", list(ADMIN_ACTIONS))
@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("admin", True),
        ("named admin", True),
        ("named, unconfirmed", False),  # anyone can register an address they do not own
        ("disabled admin", False),
        ("ordinary user", False),
        ("signed out", False),
    ],
)
def test_only_administrators_use_the_operators_powers(session, operators, action, actor, allowed):
    person = make_user(session)
    assert access.is_admin(operators[actor]) is allowed
    if allowed:
        ADMIN_ACTIONS[action](operators[actor], person, session)
    else:
        with pytest.raises(Forbidden):
            ADMIN_ACTIONS[action](operators[actor], person, session)
        session.rollback()
        assert not person.disabled and person.monthly_spend_limit is None and not person.is_admin


def test_a_reader_by_link_may_read_and_nothing_more(session, world):
    chat = world["chat"]
    chat.is_public = True
    for actor in ("stranger", "anonymous"):
        found, role = access.authorize(
            world[actor], chat.id, "read", session=session, link_token=chat.share_token
        )
        assert (found.id, role) == (chat.id, Role.viewer)
        with pytest.raises(Forbidden, match="not write"):
            access.authorize(world[actor], chat.id, "post", session=session, link_token=chat.share_token)
        with pytest.raises(NotFound):
            access.authorize(world[actor], chat.id, "read", session=session)


def test_ensure_refuses_with_the_actions_sentence():
    access.ensure(Role.owner, "set_model")
    with pytest.raises(Forbidden, match="Only the owner can change this chat's model."):
        access.ensure(Role.editor, "set_model")
