"""An unconfirmed account claimed by its address's proven owner: nothing whoever registered it set
up can still act for them or read what the owner does next."""

import pytest
from sqlmodel import select

from chat_app.models import (
    ApiToken,
    AuthSession,
    Chat,
    MediaFile,
    Message,
    SharedAccess,
    SpendRecord,
    UserApiKey,
    utcnow,
)
from chat_app.services import accounts, api_tokens, budgets, chats, keys, media, sharing
from chat_app.services.errors import NotFound, Unauthenticated
from chat_app.services.storage import get_storage
from tests.fakes import media_samples as samples
from tests.support.factories import make_chat, make_token, make_user


def _upload(owner, session) -> MediaFile:
    intake = media.Intake("cat.png", "image/png")
    intake.write(samples.png())
    row = media.record(intake.finish(), owner_id=owner.id, session=session)
    session.commit()
    return row


def test_the_registrant_is_cut_loose_and_the_chats_stay_private(session, app_settings, fake_env):
    squatter = make_user(session, "heidi@example.com")
    accomplice, neighbour = make_user(session), make_user(session)
    keys.set_key(squatter, "openai", "sk-squatters-own-key-1234", session=session)
    token = accounts.create_session(squatter, session=session)
    program_token = make_token(session, squatter)
    own_chat = make_chat(session, squatter)
    sent = _upload(squatter, session)
    _, own_reply = chats.post_message(
        squatter, own_chat.id, "see", session=session, model_id="openai/gpt-4o", attachment_ids=[str(sent.id)]
    )
    own_reply.cost = 4.0  # what the squatter spent this month, on a reply kept and one regenerated
    session.add_all([own_reply, SpendRecord(user_id=squatter.id, amount=2.0, spent_at=utcnow())])
    sharing.invite(squatter, own_chat.id, [accomplice.email], False, session=session)
    sharing.set_public(squatter, own_chat.id, True, session=session)
    old_link = own_chat.share_token
    unsent = _upload(squatter, session)
    unsent_id, unsent_file = unsent.id, get_storage().local_path(unsent.storage_key)
    # Invited to the neighbour's chat, the squatter opened the link and wrote there.
    theirs = make_chat(session, neighbour)
    session.add(SharedAccess(chat_id=theirs.id, email=squatter.email, can_edit=True, user_id=squatter.id))
    written, _ = chats.post_message(squatter, theirs.id, "hello from me", session=session)
    session.commit()

    owner = accounts.user_for_oidc("heidi@example.com", True, session=session)
    session.commit()
    session.expire_all()  # read what the database holds now

    assert owner.id == squatter.id and owner.email_verified and owner.password_hash is None
    assert session.exec(select(UserApiKey).where(UserApiKey.user_id == owner.id)).all() == []
    assert session.exec(select(AuthSession).where(AuthSession.user_id == owner.id)).all() == []
    assert accounts.user_for_token(token, session=session) is None
    assert session.exec(select(ApiToken).where(ApiToken.user_id == owner.id)).all() == []
    with pytest.raises(Unauthenticated):  # a program of the squatter's no longer speaks for the owner
        api_tokens.authenticate(program_token, session=session)
    assert budgets.spent_this_month(owner.id, session=session) == 0  # the whole allowance is theirs
    assert session.get(MediaFile, unsent_id) is None and unsent_file is not None and not unsent_file.exists()
    # The chat stays the owner's, with its files, but nobody else can read it any more.
    chat = session.exec(select(Chat).where(Chat.user_id == owner.id)).one()
    assert not chat.is_public and chat.share_token != old_link
    assert session.exec(select(SharedAccess).where(SharedAccess.chat_id == chat.id)).all() == []
    with pytest.raises(NotFound):
        sharing.chat_for_token(old_link, session=session)
    assert session.get(MediaFile, sent.id) is not None
    # The neighbour's chat keeps the message, no longer the account's; the invitation is the address's again.
    assert session.get(Message, written.id).author_id is None
    invite = session.exec(select(SharedAccess).where(SharedAccess.chat_id == theirs.id)).one()
    assert invite.user_id is None and invite.email == "heidi@example.com"


def test_a_confirmed_account_is_matched_and_keeps_everything(session, app_settings):
    user = make_user(session, "ivan@example.com")
    user.email_verified = True
    keys.set_key(user, "openai", "sk-ivans-own-key-5678", session=session)
    chat = make_chat(session, user)
    sharing.set_public(user, chat.id, True, session=session)
    session.commit()
    assert accounts.user_for_oidc("ivan@example.com", True, session=session).id == user.id
    session.commit()
    session.expire_all()
    assert session.get(Chat, chat.id).is_public
    assert user.password_hash is not None
    assert [k["last4"] for k in keys.summaries(user, session=session) if k["is_set"]] == ["5678"]
