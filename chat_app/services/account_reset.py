"""An account made as new again, for an address whose owner has just proved it.

Anyone can register any address with a password. When the address's owner later signs in with a
provider that vouches for it, nothing the registrant left may reach them: their provider keys
would pay for the owner's requests (and show them to the registrant's provider account), their
chats and uploads would sit in the owner's list, their sessions would still be signed in.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from chat_app.models import AuthSession, Chat, MediaFile, Message, SharedAccess, User, UserApiKey, utcnow
from chat_app.services import media


def reset(user: User, *, session: Session) -> None:
    """Remove everything `user` holds and unlink what they made in other people's chats; the
    account keeps only its id and address. Files go once this is committed."""
    chat_ids = session.exec(select(Chat.id).where(Chat.user_id == user.id)).all()
    for chat_id in chat_ids:
        media.delete_files_after_commit(session, media.keys_of_chat(chat_id, session=session))
    unsent = session.exec(
        select(MediaFile).where(MediaFile.owner_id == user.id, col(MediaFile.message_id).is_(None))
    ).all()
    media.delete(list(unsent), session=session)
    # Their chats go with their messages, files and shares (the tables cascade).
    session.execute(sa.delete(Chat).where(col(Chat.user_id) == user.id))
    session.execute(sa.delete(UserApiKey).where(col(UserApiKey.user_id) == user.id))
    session.execute(sa.delete(AuthSession).where(col(AuthSession.user_id) == user.id))
    # What they wrote or uploaded in other people's chats stays there, no longer anyone's; an
    # invitation they opened goes back to being one for the address.
    session.execute(sa.update(Message).where(col(Message.author_id) == user.id).values(author_id=None))
    session.execute(sa.update(MediaFile).where(col(MediaFile.owner_id) == user.id).values(owner_id=None))
    session.execute(sa.update(SharedAccess).where(col(SharedAccess.user_id) == user.id).values(user_id=None))
    user.password_hash = None
    user.display_name = ""
    user.default_model_id = None
    user.failed_logins = 0
    user.last_failed_login_at = None
    user.created_at = utcnow()
    session.add(user)
