"""An unconfirmed account claimed by its address's proven owner keeps nothing of whoever registered it."""

from sqlmodel import select

from chat_app.models import AuthSession, Chat, MediaFile, Message, SharedAccess, UserApiKey
from chat_app.services import accounts, chats, keys, media
from chat_app.services.storage import get_storage
from tests.fakes import media_samples as samples
from tests.support.factories import make_chat, make_user


def _upload(owner, session) -> MediaFile:
    intake = media.Intake("cat.png", "image/png")
    intake.write(samples.png())
    row = media.record(intake.finish(), owner_id=owner.id, session=session)
    session.commit()
    return row


def test_the_owner_inherits_nothing_and_other_peoples_chats_keep_what_was_written(
    session, app_settings, fake_env
):
    squatter = make_user(session, "heidi@example.com")
    neighbour = make_user(session)
    keys.set_key(squatter, "openai", "sk-squatters-own-key-1234", session=session)
    token = accounts.create_session(squatter, session=session)
    own_chat = make_chat(session, squatter)
    sent = _upload(squatter, session)
    chats.post_message(
        squatter, own_chat.id, "see", session=session, model_id="openai/gpt-4o", attachment_ids=[str(sent.id)]
    )
    session.add(SharedAccess(chat_id=own_chat.id, email=neighbour.email))
    unsent = _upload(squatter, session)
    # Invited to the neighbour's chat, the squatter opened the link and wrote there.
    theirs = make_chat(session, neighbour)
    session.add(SharedAccess(chat_id=theirs.id, email=squatter.email, can_edit=True, user_id=squatter.id))
    written, _ = chats.post_message(squatter, theirs.id, "hello from me", session=session)
    session.commit()
    uploads = [sent.id, unsent.id]
    files = [get_storage().local_path(key) for key in (sent.storage_key, unsent.storage_key)]
    assert all(path is not None and path.exists() for path in files)

    owner = accounts.user_for_oidc("heidi@example.com", True, session=session)
    session.commit()
    session.expire_all()  # read what the database holds now

    assert owner.id == squatter.id and owner.email_verified and owner.password_hash is None
    assert session.exec(select(UserApiKey).where(UserApiKey.user_id == owner.id)).all() == []
    assert session.exec(select(AuthSession).where(AuthSession.user_id == owner.id)).all() == []
    assert [session.get(MediaFile, upload) for upload in uploads] == [None, None]
    assert session.exec(select(Chat).where(Chat.user_id == owner.id)).all() == []
    assert session.exec(select(SharedAccess).where(SharedAccess.email == neighbour.email)).all() == []
    assert accounts.user_for_token(token, session=session) is None
    assert not any(path is not None and path.exists() for path in files)
    # The neighbour's chat keeps the message, no longer anyone's; the invitation is the address's again.
    assert session.get(Message, written.id).author_id is None
    invite = session.exec(select(SharedAccess).where(SharedAccess.chat_id == theirs.id)).one()
    assert invite.user_id is None and invite.email == "heidi@example.com"


def test_a_confirmed_account_is_matched_and_keeps_everything(session, app_settings):
    user = make_user(session, "ivan@example.com")
    user.email_verified = True
    keys.set_key(user, "openai", "sk-ivans-own-key-5678", session=session)
    chat = make_chat(session, user)
    session.commit()
    assert accounts.user_for_oidc("ivan@example.com", True, session=session).id == user.id
    session.commit()
    assert session.get(Chat, chat.id) is not None
    assert user.password_hash is not None
    assert [k["last4"] for k in keys.summaries(user, session=session) if k["is_set"]] == ["5678"]
