"""The summary of earlier messages a reply's prompt was sent with, read from the reply's note:
people see what the model was told in place of what no longer fit its window."""

from __future__ import annotations

import reflex as rx

from chat_app.services import chats
from chat_app.services.errors import DomainError
from chat_app.state.chat import ChatState


class SummaryState(ChatState):
    summary_open: rx.Field[bool] = rx.field(False)
    summary_about: rx.Field[str] = rx.field("")
    summary_text: rx.Field[str] = rx.field("")

    @rx.event
    async def show_summary(self, message_id: str):
        """Read the summary when asked (it is not sent with the messages: the page stays small)."""
        chat_id, link_token = self.chat_id, self._link_token
        try:
            found = await self._as_visitor(
                lambda user, session: chats.summary_sent_with(
                    user, chat_id, message_id, session=session, link_token=link_token
                )
            )
        except DomainError as exc:
            return self._refusal(exc)
        covered = found["covered"]
        earliest = "earliest message" if covered == 1 else f"{covered:,} earliest messages"
        self.summary_about = (
            f"{found['model_name']} wrote this of the {earliest} of this conversation; "
            "the reply's model was sent it in their place."
        )
        self.summary_text = found["content"]
        self.summary_open = True

    @rx.event
    def set_summary_open(self, is_open: bool):
        self.summary_open = is_open
