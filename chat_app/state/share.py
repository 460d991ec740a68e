"""The owner's "Share this chat" dialog: public flag, link, invitations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import reflex as rx
from sqlmodel import Session

from chat_app.models import User
from chat_app.services import replies, sharing
from chat_app.state.auth import Refused
from chat_app.state.chat import ChatState

INVITE_EMAIL_ID = "invite-email"
T = TypeVar("T")


class ShareState(ChatState):
    share_open: rx.Field[bool] = rx.field(False)
    is_public: rx.Field[bool] = rx.field(False)
    share_link: rx.Field[str] = rx.field("")
    invites: rx.Field[list[sharing.InviteView]] = rx.field(default_factory=list)
    email_enabled: rx.Field[bool] = rx.field(False)
    invite_can_edit: rx.Field[bool] = rx.field(False)
    share_notice: rx.Field[str] = rx.field("")

    def _show(self, view: sharing.ShareView) -> None:
        self.is_public, self.share_link, self.email_enabled = (
            view["is_public"],
            view["link"],
            view["email_enabled"],
        )
        self.invites = view["invites"]

    async def _change(
        self, change: Callable[[User, str, Session], T], *, access_changed: bool = False
    ) -> T | Refused:
        """Apply an owner's change, then show the sharing settings as they now are. A change of
        who may read the chat is announced to its open views, which check theirs at once."""
        chat_id = self.chat_id

        def work(user, session):
            result = change(user, chat_id, session)
            return result, sharing.share_view(user, chat_id, session=session)

        outcome = await self._act(work)
        if isinstance(outcome, Refused):
            return outcome
        result, view = outcome
        self._show(view)
        if access_changed:
            replies.announce_access(chat_id)
        return result

    @rx.event
    async def open_share(self):
        self.share_notice, self.invite_can_edit = "", False
        done = await self._change(lambda user, chat_id, session: None)
        if isinstance(done, Refused):
            return done.effect
        self.share_open = True

    @rx.event
    def set_share_open(self, is_open: bool):
        self.share_open = is_open

    @rx.event
    async def set_public(self, is_public: bool):
        done = await self._change(
            lambda user, chat_id, session: sharing.set_public(user, chat_id, is_public, session=session),
            access_changed=True,
        )
        if isinstance(done, Refused):
            return done.effect

    @rx.event
    def set_invite_can_edit(self, can_edit: bool):
        self.invite_can_edit = can_edit

    @rx.event
    async def send_invites(self, form_data: dict):
        emails, can_edit = str(form_data.get("emails", "")), self.invite_can_edit

        def invite(
            user: User, chat_id: str, session: Session
        ) -> tuple[list[sharing.Invitation], sharing.Mailing]:
            fresh = sharing.invite(user, chat_id, emails, can_edit, session=session)
            return fresh, sharing.mailing(user, fresh)

        invited = await self._change(invite)
        if isinstance(invited, Refused):
            return invited.effect
        fresh, mailing = invited
        emailed = await asyncio.to_thread(sharing.notify, mailing.invitations) if mailing.invitations else []
        unsent = [i.email for i in fresh if i.email not in emailed]
        if not fresh:
            self.share_notice = "Updated: they were already invited."
        elif mailing.withheld:
            self.share_notice = f"Invited {', '.join(i.email for i in fresh)}. {mailing.withheld}"
        elif unsent:
            self.share_notice = (
                f"Invited {', '.join(unsent)}. No email was sent: copy their invitation link "
                "below and send it to them."
            )
        else:
            self.share_notice = f"Invited and emailed {', '.join(emailed)}."
        return rx.set_value(INVITE_EMAIL_ID, "")

    @rx.event
    async def set_invitee_edit(self, email: str, can_edit: bool):
        done = await self._change(
            lambda user, chat_id, session: sharing.set_can_edit(
                user, chat_id, email, can_edit, session=session
            ),
            access_changed=True,
        )
        if isinstance(done, Refused):
            return done.effect

    @rx.event
    async def remove_invitee(self, email: str):
        done = await self._change(
            lambda user, chat_id, session: sharing.remove_invite(user, chat_id, email, session=session),
            access_changed=True,
        )
        if isinstance(done, Refused):
            return done.effect

    @rx.event
    async def rotate_link(self):
        done = await self._change(
            lambda user, chat_id, session: sharing.rotate_link(user, chat_id, session=session),
            access_changed=True,
        )
        return (
            done.effect
            if isinstance(done, Refused)
            else rx.toast.info("A new link is ready. The old one no longer works.")
        )

    @rx.event
    def copy_link(self):
        return [rx.set_clipboard(self.share_link), rx.toast.success("Link copied")]

    @rx.event
    def copy_invite_link(self, link: str):
        return [rx.set_clipboard(link), rx.toast.success("Invitation link copied")]
