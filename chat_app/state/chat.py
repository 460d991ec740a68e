"""The chat page: sidebar, history, the reply in flight, composer and model selection."""

from __future__ import annotations

import asyncio
import uuid

import reflex as rx

from chat_app.db import session_scope
from chat_app.services import access, chats, live, replies
from chat_app.services.errors import DomainError, Unauthenticated
from chat_app.services.llm import Deadlines
from chat_app.services.providers import default_model_id, model_choices
from chat_app.services.views import ChatView, MessageView, chat_view, message_view
from chat_app.settings import get_settings
from chat_app.state.auth import AuthState

COMPOSER_ID = "composer"  # cleared only once a message is saved, so a refused one keeps its text
UPDATE_WINDOW = 0.05  # coalesce live deltas: at most ~20 updates a second per view


def _deadlines() -> Deadlines:
    s = get_settings()
    return Deadlines(s.first_token_timeout, s.chunk_gap_timeout, s.total_timeout)


def _model_options() -> list[dict[str, str]]:
    return [
        {
            "id": c.id,
            "label": c.name if c.available else f"{c.name} (unavailable)",
            "available": "true" if c.available else "false",
            "reason": c.unavailable_reason,
        }
        for c in model_choices()
    ]


class ChatState(AuthState):
    chats: list[ChatView] = []
    chat_id: str = ""
    chat_title: str = ""
    role: str = ""
    messages: list[MessageView] = []
    # The reply in flight lives apart from the history, so a token never re-sends the history.
    live_id: str = ""
    live_text: str = ""
    model_id: str = ""
    models: list[dict[str, str]] = []
    notice: str = ""
    not_found: bool = False
    sidebar_open: bool = False
    rename_id: str = ""
    rename_title: str = ""
    delete_id: str = ""
    _follow_generation: int = 0

    async def _act(self, work):
        """Run a service call for the signed-in user; on failure, the effect to show instead.

        Returns (result, None) on success, else (None, effect) with a redirect or a toast.
        """
        try:
            return await self._as_user(work), None
        except Unauthenticated:
            return None, self._login_redirect()
        except DomainError as exc:
            return None, rx.toast.error(str(exc))

    # ----- loading -------------------------------------------------------------------
    @rx.event
    async def load_home(self):
        def work(user, session):
            return user.email, user.default_model_id, [chat_view(c) for c in chats.list_chats(user, session=session)]

        self._reset_chat()
        result, effect = await self._act(work)
        if effect:
            return effect
        self.user_email, default, self.chats = result
        self.models = _model_options()
        self.model_id = default or default_model_id()

    def _reset_chat(self) -> None:
        self.chat_id = self.chat_title = self.role = self.notice = ""
        self.messages = []
        self.live_id = self.live_text = ""
        self.not_found = False
        self.sidebar_open = False
        self._follow_generation += 1

    @rx.event
    async def load_chat(self):
        chat_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        settings = get_settings()
        stale_after = max(settings.first_token_timeout, settings.chunk_gap_timeout) + 15

        def work(user, session):
            sidebar = [chat_view(c) for c in chats.list_chats(user, session=session)]
            try:
                chat, role = access.authorize(user, chat_id, "read", session=session)
            except DomainError:
                return user, sidebar, None
            replies.mark_orphans(chat.id, session=session, stale_after=stale_after)
            session.flush()
            rows = chats.messages_of(chat.id, session=session)
            return user, sidebar, (chat_view(chat), role.value, [message_view(m) for m in rows])

        self._reset_chat()
        result, effect = await self._act(work)
        if effect:
            return effect
        user, self.chats, found = result
        self.user_email = user.email
        self.models = _model_options()
        if found is None:
            self.not_found = True
            return
        chat, self.role, self.messages = found
        self.chat_id, self.chat_title = chat["id"], chat["title"]
        self.model_id = chat["model_id"] or user.default_model_id or default_model_id()
        if self.messages and self.messages[-1]["status"] in chats.IN_FLIGHT:
            return ChatState.follow_reply

    # ----- sending -------------------------------------------------------------------
    @rx.event
    async def send_message(self, form_data: dict):
        content = str(form_data.get("content", ""))
        chat_id, model_id = self.chat_id, self.model_id
        max_chars = get_settings().max_message_chars

        def work(user, session):
            target = chat_id or str(chats.create_chat(user, session=session, model_id=model_id).id)
            mine, reply = chats.post_message(
                user, target, content, session=session, model_id=model_id, max_chars=max_chars
            )
            return target, message_view(mine), message_view(reply)

        try:
            target, mine, reply = await self._as_user(work)
        except Unauthenticated:
            return self._login_redirect()
        except DomainError as exc:
            self.notice = str(exc)  # said beside the composer, which keeps the text
            return
        self.notice = ""
        replies.start_reply(target, reply["id"], deadlines=_deadlines())
        if target != chat_id:  # the first message of a new chat: go to its own URL
            return [rx.set_value(COMPOSER_ID, ""), rx.redirect(f"/chat/{target}")]
        self.messages = [*self.messages, mine, reply]
        return [rx.set_value(COMPOSER_ID, ""), ChatState.follow_reply, ChatState.refresh_sidebar]

    @rx.event
    async def refresh_sidebar(self):
        result, _ = await self._act(lambda user, session: [chat_view(c) for c in chats.list_chats(user, session=session)])
        if result is not None:
            self.chats = result
            self.chat_title = next((c["title"] for c in self.chats if c["id"] == self.chat_id), self.chat_title)

    @rx.event
    async def regenerate(self):
        chat_id, model_id = self.chat_id, self.model_id
        reply, effect = await self._act(
            lambda user, session: message_view(
                chats.restart_last_reply(user, chat_id, session=session, model_id=model_id)
            )
        )
        if effect:
            return effect
        replies.start_reply(chat_id, reply["id"], deadlines=_deadlines())
        self.messages = [*self.messages[:-1], reply]
        return ChatState.follow_reply

    @rx.event
    async def stop_reply(self):
        chat_id = self.chat_id
        _, effect = await self._act(lambda user, session: access.authorize(user, chat_id, "stop", session=session))
        if effect:
            return effect
        job = replies.running_in(chat_id)
        if job is not None:
            replies.stop_reply(job.message_id)

    # ----- following the live channel ------------------------------------------------
    @rx.event(background=True)
    async def follow_reply(self):
        """Show the chat's reply in flight as it grows, whichever tab or request started it."""
        async with self:
            self._follow_generation += 1
            generation, chat_id = self._follow_generation, self.chat_id
        if not chat_id:
            return
        with live.channel.subscribe(chat_id) as queue:
            job = replies.running_in(chat_id)  # read with the subscription in place: no gap
            if job is not None:
                async with self:
                    if self._follow_generation != generation:
                        return
                    self._begin_live(job.message_id, job.text)
            while job is not None:
                batch = await live.next_batch(queue, window=UPDATE_WINDOW, timeout=1.0)
                async with self:
                    if self._follow_generation != generation:
                        return
                    ended = self._apply(batch)
                if ended:
                    job = replies.running_in(chat_id)
                    if job is not None:
                        async with self:
                            self._begin_live(job.message_id, job.text)
        await self._reload_last_messages(chat_id, generation)

    def _begin_live(self, message_id: str, text: str) -> None:
        self.live_id, self.live_text = message_id, text
        self.messages = [m for m in self.messages if m["id"] != message_id]

    def _apply(self, batch: list[live.Event]) -> bool:
        """Apply a batch of channel events in one update; True when the reply ended."""
        ended = False
        text = self.live_text
        for event in batch:
            if event["type"] == "start" and not self.live_id:
                self._begin_live(event["message_id"], "")
                text = ""
            elif event["type"] == "delta" and event["message_id"] == self.live_id:
                text += event["text"]
            elif event["type"] == "end":
                ended = True
        self.live_text = text
        return ended

    async def _reload_last_messages(self, chat_id: str, generation: int) -> None:
        """Replace the live view with what was saved, once the reply has ended."""

        def work():
            with session_scope() as session:
                return [message_view(m) for m in chats.messages_of(uuid.UUID(chat_id), session=session)[-2:]]

        tail = await asyncio.to_thread(work)
        async with self:
            if self._follow_generation != generation or self.chat_id != chat_id:
                return
            ids = {m["id"] for m in tail}
            self.messages = [m for m in self.messages if m["id"] not in ids] + tail
            self.live_id = self.live_text = ""

    # ----- model, sidebar, rename, delete --------------------------------------------
    @rx.event
    async def set_model(self, model_id: str):
        chat_id = self.chat_id

        def work(user, session):
            if chat_id:
                chats.set_chat_model(user, chat_id, model_id, session=session)
            else:
                chats.set_default_model(user, model_id, session=session)

        _, effect = await self._act(work)
        if effect:
            return effect
        self.model_id = model_id

    @rx.event
    def toggle_sidebar(self):
        self.sidebar_open = not self.sidebar_open

    @rx.event
    def ask_rename(self, chat_id: str, title: str):
        self.rename_id, self.rename_title = chat_id, title

    @rx.event
    def cancel_rename(self):
        self.rename_id = ""

    @rx.event
    async def rename_chat(self, form_data: dict):
        chat_id, title = self.rename_id, str(form_data.get("title", ""))
        renamed, effect = await self._act(
            lambda user, session: chat_view(chats.rename_chat(user, chat_id, title, session=session))
        )
        if effect:
            return effect
        self.rename_id = ""
        self.chats = [renamed if c["id"] == chat_id else c for c in self.chats]
        if chat_id == self.chat_id:
            self.chat_title = renamed["title"]

    @rx.event
    def ask_delete(self, chat_id: str):
        self.delete_id = chat_id

    @rx.event
    def cancel_delete(self):
        self.delete_id = ""

    @rx.event
    async def delete_chat(self):
        chat_id = self.delete_id
        _, effect = await self._act(lambda user, session: chats.delete_chat(user, chat_id, session=session))
        if effect:
            return effect
        self.delete_id = ""
        self.chats = [c for c in self.chats if c["id"] != chat_id]
        if chat_id == self.chat_id:
            return rx.redirect("/")

    @rx.var
    def is_streaming(self) -> bool:
        return self.live_id != ""

    @rx.var
    def can_post(self) -> bool:
        return self.role in ("owner", "editor") or self.chat_id == ""
