"""Sharing: the access matrix, invitations, links, rotation and "continue in my account"."""

from __future__ import annotations

import pytest
from sqlmodel import select

from chat_app.models import MediaFile, Message, SharedAccess
from chat_app.services import access, chats, media, sharing
from chat_app.services.errors import Forbidden, Invalid, NotFound, TooManyAttempts
from chat_app.services.storage import get_storage
from tests.fakes import media_samples as samples
from tests.support.factories import make_chat, make_user

ACTORS = ("owner", "editor", "viewer", "stranger", "anonymous")
ACTIONS = ("read", "post", "fetch_media", "share", "rotate", "rename", "delete")
OK, HIDDEN, REFUSED = "ok", "404", "403"

MEMBER = {
    "read": OK,
    "fetch_media": OK,
    "share": REFUSED,
    "rotate": REFUSED,
    "rename": REFUSED,
    "delete": REFUSED,
}
EXPECTED = {
    ("owner", "private"): dict.fromkeys(ACTIONS, OK),
    ("editor", "private"): {**MEMBER, "post": OK},
    ("viewer", "private"): {**MEMBER, "post": REFUSED},
    ("stranger", "private"): dict.fromkeys(ACTIONS, HIDDEN),
    ("anonymous", "private"): dict.fromkeys(ACTIONS, HIDDEN),
    # Non-members read a public chat (and its files) through its current link, and do nothing else.
    ("stranger", "public"): {**dict.fromkeys(ACTIONS, HIDDEN), "read": OK, "fetch_media": OK},
    ("anonymous", "public"): {**dict.fromkeys(ACTIONS, HIDDEN), "read": OK, "fetch_media": OK},
}
for _actor in ("owner", "editor", "viewer"):
    EXPECTED[(_actor, "public")] = EXPECTED[(_actor, "private")]


def _attach_file(owner, chat, session) -> MediaFile:
    intake = media.Intake("cat.png", "image/png")
    intake.write(samples.png())
    row = media.record(intake.finish(), owner_id=owner.id, session=session)
    mine, _ = chats.post_message(owner, chat.id, "look", session=session, attachment_ids=[str(row.id)])
    mine.status = "complete"
    session.commit()
    return row


@pytest.fixture
def shared(session, app_settings, fake_env):
    """A chat with an editor (a verified account) and a viewer (a password account bound by its link)."""
    owner, editor, viewer, stranger = (make_user(session) for _ in range(4))
    editor.email_verified = True
    session.add(editor)
    chat = make_chat(session, owner)
    sharing.invite(owner, chat.id, [editor.email], True, session=session)
    sharing.invite(owner, chat.id, viewer.email, False, session=session)
    session.commit()
    token = session.exec(select(SharedAccess).where(SharedAccess.email == viewer.email)).one().invite_token
    assert sharing.claim_invite(viewer, token, session=session) == str(chat.id)
    file = _attach_file(owner, chat, session)
    # the fixture's own reply must not block the matrix's posts
    for message in session.exec(select(Message).where(Message.chat_id == chat.id)).all():
        message.status = "complete"
        session.add(message)
    session.commit()
    people = {"owner": owner, "editor": editor, "viewer": viewer, "stranger": stranger, "anonymous": None}
    return people, chat, file


def _attempt(action: str, actor, chat, file, session, link_token: str | None = None) -> str:
    """`link_token`: the share link the actor read the chat by (presented where reading)."""
    try:
        if action == "fetch_media":
            access.authorize_media(actor, file.id, session=session, link_token=link_token)
        elif action == "read":
            access.authorize(actor, chat.id, "read", session=session, link_token=link_token)
        elif action == "post":
            if actor is None:
                access.authorize(None, chat.id, "post", session=session)
            else:
                chats.post_message(actor, chat.id, "hello", session=session)
        elif action == "share":
            sharing.share_view(actor, chat.id, session=session) if actor else access.authorize(
                None, chat.id, "share", session=session
            )
        elif action == "rotate":
            sharing.rotate_link(actor, chat.id, session=session) if actor else access.authorize(
                None, chat.id, "rotate", session=session
            )
        elif action == "rename":
            chats.rename_chat(actor, chat.id, "Renamed", session=session) if actor else access.authorize(
                None, chat.id, "rename", session=session
            )
        elif action == "delete":
            access.authorize(actor, chat.id, "delete", session=session)  # authorize only: keep the chat
        else:
            access.authorize(actor, chat.id, action, session=session)
        return OK
    except NotFound:
        return HIDDEN
    except Forbidden:
        return REFUSED
    finally:
        session.rollback()


@pytest.mark.parametrize("visibility", ["private", "public"])
def test_the_access_matrix(shared, session, visibility):
    people, chat, file = shared
    chat.is_public = visibility == "public"
    session.add(chat)
    session.commit()
    got = {
        (actor, action): _attempt(
            action, people[actor], session.get(type(chat), chat.id), file, session, chat.share_token
        )
        for actor in ACTORS
        for action in ACTIONS
    }
    expected = {
        (actor, action): EXPECTED[(actor, visibility)][action] for actor in ACTORS for action in ACTIONS
    }
    assert got == expected


def test_a_public_chat_is_hidden_from_non_members_without_its_current_link(shared, session):
    people, chat, file = shared
    chat.is_public = True
    old = chat.share_token
    sharing.rotate_link(people["owner"], chat.id, session=session)
    session.commit()
    for link in (None, old):
        for actor in ("stranger", "anonymous"):
            assert _attempt("read", people[actor], chat, file, session, link) == HIDDEN
            assert _attempt("fetch_media", people[actor], chat, file, session, link) == HIDDEN
            assert sharing.open_link(people[actor], old, session=session).outcome != "public"
            if people[actor] is not None:
                with pytest.raises(NotFound):
                    sharing.continue_in_my_account(people[actor], chat.id, session=session, link_token=link)
        for member in ("owner", "editor", "viewer"):  # members need no link
            assert _attempt("read", people[member], chat, file, session, link) == OK
            assert _attempt("fetch_media", people[member], chat, file, session, link) == OK
    chat = session.get(type(chat), chat.id)
    assert _attempt("read", people["anonymous"], chat, file, session, chat.share_token) == OK
    other = make_chat(session, people["owner"])  # another public chat's link opens that chat alone
    other.is_public = True
    session.commit()
    assert _attempt("read", people["anonymous"], chat, file, session, other.share_token) == HIDDEN
    assert _attempt("fetch_media", people["anonymous"], chat, file, session, other.share_token) == HIDDEN
    copy = sharing.continue_in_my_account(
        people["stranger"], chat.id, session=session, link_token=chat.share_token
    )
    assert copy.user_id == people["stranger"].id


def test_an_unverified_account_with_the_invited_email_gets_nothing_without_the_link(session, app_settings):
    owner, impostor = make_user(session), make_user(session)
    chat = make_chat(session, owner)
    sharing.invite(owner, chat.id, impostor.email, True, session=session)
    session.commit()
    # registered with the address, never proved it: no access (anyone can type any address)
    with pytest.raises(NotFound):
        access.authorize(impostor, chat.id, "read", session=session)
    assert sharing.open_link(impostor, chat.share_token, session=session).outcome == "no_access"
    impostor.email_verified = True  # e.g. confirmed by email, or signed in through Google
    session.add(impostor)
    assert access.authorize(impostor, chat.id, "post", session=session)[1] is access.Role.editor


def test_an_invitation_link_binds_only_to_the_invited_address(session, app_settings):
    owner, invited, other = make_user(session), make_user(session), make_user(session)
    chat = make_chat(session, owner)
    sharing.invite(owner, chat.id, invited.email, False, session=session)
    session.commit()
    token = session.exec(select(SharedAccess)).one().invite_token
    with pytest.raises(NotFound, match="another email address"):
        sharing.claim_invite(other, token, session=session)
    for bad in ("", "x" * 31, "!" * 32, token[:-1] + ("A" if token[-1] != "A" else "B")):
        with pytest.raises(NotFound):
            sharing.claim_invite(invited, bad, session=session)
    sharing.claim_invite(invited, token, session=session)
    assert [c.id for c in sharing.shared_with(invited, session=session)] == [chat.id]
    assert sharing.shared_with(other, session=session) == []


def test_opening_a_link_follows_the_designed_order(session, app_settings):
    owner, stranger, invited = make_user(session), make_user(session), make_user(session)
    invited.email_verified = True
    chat = make_chat(session, owner)
    sharing.invite(owner, chat.id, invited.email, False, session=session)
    session.commit()
    token = chat.share_token
    outcomes = lambda: {  # noqa: E731
        who: sharing.open_link(actor, token, session=session).outcome
        for who, actor in (
            ("owner", owner),
            ("invited", invited),
            ("stranger", stranger),
            ("anonymous", None),
        )
    }
    assert outcomes() == {"owner": "open", "invited": "open", "stranger": "no_access", "anonymous": "sign_in"}
    sharing.set_public(owner, chat.id, True, session=session)
    assert outcomes() == {"owner": "open", "invited": "open", "stranger": "public", "anonymous": "public"}

    old = token
    link = sharing.rotate_link(owner, chat.id, session=session)
    session.commit()
    assert link.endswith(chat.share_token) and chat.share_token != old and len(chat.share_token) == 32
    assert sharing.open_link(None, old, session=session).outcome == "sign_in"  # the old link is dead at once
    assert sharing.open_link(stranger, old, session=session).outcome == "no_access"
    for bad in ("", "short", "../../etc/passwd", "a" * 33, "é" * 32):
        assert sharing.open_link(stranger, bad, session=session).outcome == "no_access"


def test_invites_are_validated_merged_and_owner_only(session, app_settings):
    owner, viewer = make_user(session), make_user(session)
    chat = make_chat(session, owner)
    before = sharing.share_view(owner, chat.id, session=session)
    for emails, says in [
        ("not-an-email", "not valid"),
        (["a@example.com", "b@@example.com"], "b@@example.com"),
        ("", "at least one"),
        ([f"p{i}@example.com" for i in range(51)], "at most 50"),
        (owner.email, "own this chat"),
        (42, "list of strings"),
    ]:
        with pytest.raises(Invalid, match=says):
            sharing.invite(owner, chat.id, emails, False, session=session)
        session.rollback()
    assert sharing.share_view(owner, chat.id, session=session) == before  # nothing changed

    fresh = sharing.invite(
        owner, chat.id, "Ann@Example.com, ann@example.com; bob@example.com", False, session=session
    )
    assert [i.email for i in fresh] == ["ann@example.com", "bob@example.com"]
    again = sharing.invite(owner, chat.id, ["ann@example.com"], True, session=session)
    assert again == []  # already invited: only the edit right changed
    view = sharing.share_view(owner, chat.id, session=session)
    assert [(i["email"], i["can_edit"]) for i in view["invites"]] == [
        ("ann@example.com", True),
        ("bob@example.com", False),
    ]
    sharing.set_can_edit(owner, chat.id, "ann@example.com", False, session=session)
    sharing.remove_invite(owner, chat.id, "bob@example.com", session=session)
    assert [
        (i["email"], i["can_edit"]) for i in sharing.share_view(owner, chat.id, session=session)["invites"]
    ] == [("ann@example.com", False)]
    with pytest.raises(NotFound):
        sharing.remove_invite(owner, chat.id, "nobody@example.com", session=session)
    with pytest.raises(NotFound):
        sharing.invite(viewer, chat.id, "c@example.com", False, session=session)  # not their chat


def test_removed_access_is_gone_at_the_next_action(shared, session):
    people, chat, _ = shared
    sharing.remove_invite(people["owner"], chat.id, people["viewer"].email, session=session)
    session.commit()
    with pytest.raises(NotFound):
        access.authorize(people["viewer"], chat.id, "read", session=session)


def test_continue_in_my_account_copies_messages_and_files(shared, session):
    people, chat, file = shared
    viewer = people["viewer"]
    copy = sharing.continue_in_my_account(viewer, chat.id, session=session)
    session.commit()
    assert copy.user_id == viewer.id and copy.id != chat.id
    assert access.authorize(viewer, copy.id, "post", session=session)[1] is access.Role.owner
    originals = chats.messages_of(chat.id, session=session)
    copied = chats.messages_of(copy.id, session=session)
    assert [(m.role, m.content) for m in copied] == [(m.role, m.content) for m in originals]
    (twin,) = session.exec(select(MediaFile).where(MediaFile.chat_id == copy.id)).all()
    assert twin.storage_key != file.storage_key and twin.sha256 == file.sha256
    storage = get_storage()
    assert (
        storage.local_path(twin.storage_key).read_bytes() == storage.local_path(file.storage_key).read_bytes()
    )
    # deleting the original leaves the copy whole
    chats.delete_chat(people["owner"], chat.id, session=session)
    session.commit()
    assert storage.local_path(twin.storage_key).exists()
    with pytest.raises(NotFound):
        sharing.continue_in_my_account(people["stranger"], copy.id, session=session)


def test_editors_replies_use_the_owners_key_when_they_have_none(session, app_settings, fake_env, monkeypatch):
    from chat_app.services import keys, replies

    monkeypatch.delenv("ANTHROPIC_API_KEY")
    owner, editor = make_user(session), make_user(session)
    editor.email_verified = True
    chat = make_chat(session, owner, model_id="anthropic/claude-sonnet-4-5")
    keys.set_key(owner, "anthropic", "sk-ant-owners-own", session=session)
    sharing.invite(owner, chat.id, editor.email, True, session=session)
    _, reply = chats.post_message(editor, chat.id, "hi", session=session)
    session.commit()
    assert replies.plan_for(reply, session=session).own_key == "sk-ant-owners-own"
    keys.set_key(editor, "anthropic", "sk-ant-editors-own", session=session)
    session.commit()
    assert replies.plan_for(reply, session=session).own_key == "sk-ant-editors-own"


def test_only_who_may_choose_the_model_writes_with_another_one(shared, session):
    people, chat, _ = shared
    editor, owner = people["editor"], people["owner"]
    expensive = "anthropic/claude-opus-4-5"
    assert chat.model_id != expensive
    with pytest.raises(Forbidden, match="Only the owner can change this chat's model."):
        chats.post_message(editor, chat.id, "hi", session=session, model_id=expensive)
    session.rollback()
    _, reply = chats.post_message(editor, chat.id, "hi", session=session, model_id=chat.model_id)
    reply.status = "complete"
    session.commit()
    with pytest.raises(Forbidden, match="Only the owner can change this chat's model."):
        chats.regenerate_reply(editor, chat.id, session=session, model_id=expensive)
    session.rollback()
    assert chats.regenerate_reply(editor, chat.id, session=session).model_id == chat.model_id
    session.rollback()
    # the owner chooses freely, and the chat keeps the choice
    assert chats.regenerate_reply(owner, chat.id, session=session, model_id=expensive).model_id == expensive
    session.rollback()
    _, reply = chats.post_message(owner, chat.id, "hi", session=session, model_id=expensive)
    assert (reply.model_id, session.get(type(chat), chat.id).model_id) == (expensive, expensive)


def test_who_gets_invitation_emails(session, app_settings, smtp_env, monkeypatch):
    from chat_app import settings

    monkeypatch.setenv("INVITE_EMAILS_PER_DAY", "4")
    monkeypatch.setenv("INVITE_EMAILS_PER_RECIPIENT_PER_DAY", "1")
    settings.get_settings.cache_clear()
    owner = make_user(session)
    chat = make_chat(session, owner)
    fresh = sharing.invite(owner, chat.id, "a@example.com", False, session=session)
    unconfirmed = sharing.mailing(owner, fresh)
    assert unconfirmed.invitations == [] and unconfirmed.withheld == sharing.CONFIRM_FIRST
    owner.email_verified = True
    assert sharing.mailing(owner, []) == sharing.Mailing([])
    first = sharing.mailing(owner, fresh)
    assert first.invitations == fresh and first.withheld == ""
    again = sharing.invite(owner, chat.id, "b@example.com c@example.com", False, session=session)
    crowded = sharing.mailing(owner, [*fresh, *again])  # a@ had its one email today
    assert [i.email for i in crowded.invitations] == ["b@example.com", "c@example.com"]
    assert crowded.withheld.startswith("No email went to a@example.com:")
    with pytest.raises(TooManyAttempts, match="invitation emails today"):
        sharing.mailing(owner, again)  # 4 of 4 spent
    monkeypatch.delenv("SMTP_HOST")
    settings.get_settings.cache_clear()
    assert sharing.mailing(owner, again) == sharing.Mailing([])  # no email server: links to copy
