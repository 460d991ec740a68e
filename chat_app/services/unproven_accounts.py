"""An account cut loose from whoever registered it, for an address whose owner has just proved it.

Anyone can register any address with a password. When the address's owner later signs in with a
provider that vouches for it, nothing the registrant set up may reach them or speak for them: their
provider keys would pay for the owner's requests (and show them to the registrant's provider
account), their sessions would still be signed in and their API tokens still speak for it, an
invitation or public link on one of their chats would let them read what the owner writes there next.

The chats themselves stay, made private. On a server without mail nobody can confirm an address, so
the registrant is as often the owner themselves, signing in with a provider for the first time:
deleting the chats would lose their work, while what could leak it is gone.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from chat_app.models import (
    ApiToken,
    AuthSession,
    Chat,
    MediaFile,
    Message,
    SharedAccess,
    SpendRecord,
    User,
    UserApiKey,
    utcnow,
)
from chat_app.services import budgets, chats, media


def cut_loose(user: User, *, session: Session) -> None:
    """End everything by which whoever registered `user` could still act or read: the password,
    sessions, API tokens, provider keys, unsent uploads, and every invitation and public link of the account's
    chats; what they wrote in other people's chats is no longer the account's, and what they spent
    this month no longer counts against it. Files go once this is committed."""
    own_chats = session.exec(select(Chat).where(Chat.user_id == user.id)).all()
    chat_ids = [chat.id for chat in own_chats]
    for chat in own_chats:
        chat.is_public = False
        chat.share_token = chats.new_share_token()  # a link handed out before stops working
        session.add(chat)
    session.execute(sa.delete(SharedAccess).where(col(SharedAccess.chat_id).in_(chat_ids)))
    unsent = session.exec(
        select(MediaFile).where(MediaFile.owner_id == user.id, col(MediaFile.message_id).is_(None))
    ).all()
    media.delete(list(unsent), session=session)
    session.execute(sa.delete(UserApiKey).where(col(UserApiKey.user_id) == user.id))
    session.execute(sa.delete(AuthSession).where(col(AuthSession.user_id) == user.id))
    session.execute(sa.delete(ApiToken).where(col(ApiToken.user_id) == user.id))
    # Elsewhere, their words must not pass for the owner's; an invitation they opened goes back
    # to being one for the address.
    elsewhere = col(Message.chat_id).not_in(chat_ids)
    session.execute(
        sa.update(Message).where(col(Message.author_id) == user.id, elsewhere).values(author_id=None)
    )
    session.execute(
        sa.update(MediaFile)
        .where(col(MediaFile.owner_id) == user.id, col(MediaFile.chat_id).not_in(chat_ids))
        .values(owner_id=None)
    )
    session.execute(sa.update(SharedAccess).where(col(SharedAccess.user_id) == user.id).values(user_id=None))
    _forgive_this_months_spend(user, session=session)
    user.password_hash = None
    user.display_name = ""
    user.failed_logins = 0
    user.last_failed_login_at = None
    session.add(user)


def _forgive_this_months_spend(user: User, *, session: Session) -> None:
    """What the registrant spent this month is not the owner's to carry: a credit of as much, so
    the owner starts with their whole allowance. (Replies they asked for elsewhere count for nobody
    now; see above.)"""
    session.flush()
    spent = budgets.spent_this_month(user.id, session=session)
    if spent:
        session.add(SpendRecord(user_id=user.id, amount=-spent, spent_at=utcnow()))
