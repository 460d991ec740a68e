"""The chat page: sidebar, history, the reply in flight, composer and model selection."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import quote

import reflex as rx

from chat_app.db import session_scope
from chat_app.models import Message
from chat_app.services import access, accounts, chats, keys, replies, runtime, sharing
from chat_app.services.catalog import default_model_id, list_models
from chat_app.services.errors import DomainError, Forbidden, Unauthenticated
from chat_app.services.views import ChatView, MessageView, chat_view, money
from chat_app.state.attachments import AttachmentsMixin
from chat_app.state.auth import AuthState
from chat_app.state.following import Following, Outcome

COMPOSER_ID = "composer"  # cleared only once a message is saved, so a refused one keeps its text
IDLE_FOLLOW_LIMIT = 15 * 60  # seconds a quiet view keeps following (a closed tab's follower ends)
RESYNC_AFTER = 5.0  # seconds of silence from a reply in flight after which the view reads the database
SEAL_AT = 1024  # characters of a growing reply re-sent per update before they are sealed
HISTORY_PAGE = 50  # messages a chat opens with; older ones come a page at a time as the reader scrolls up

# Pages of older messages live in the browser only: the state keeps the latest page, so it stays
# the same size however long the chat, and a page once sent is never sent again.
EARLIER = rx._x.client_state("earlier_messages", default=[])


def _put_earlier_on_top(rows: list[MessageView]) -> list:
    """Prepend a page to the older messages the browser holds, keeping the reader's place.

    JSON is a safe JavaScript literal, so message text cannot become code.
    """
    shown = "refs['_client_state_earlier_messages']"
    page = rx.Var(f"[...{json.dumps(rows)}, ...({shown} ?? [])]")
    return [rx.call_script("window.chatKeepPlace?.()"), EARLIER.push(page)]


def _model_options(user, session) -> list[dict[str, str]]:
    own_keys = frozenset(keys.own_key_providers(user.id, session=session))
    return [
        {
            "id": m["id"],
            "label": m["name"] if m["available"] else f"{m['name']} (unavailable)",
            "available": "true" if m["available"] else "false",
            "reason": m["unavailable_reason"],
            "type": m["type"],
            "name": m["name"],
            # Why this model cannot take an image or a video attachment ("" when it can).
            "image_refusal": chats.refusal_for(m["name"], m["type"], m["capabilities"], {"image"}),
            "video_refusal": chats.refusal_for(m["name"], m["type"], m["capabilities"], {"video"}),
        }
        for m in list_models(session=session, sort="provider", own_keys=own_keys)
    ]


def _opened(chat, role, session):
    """What a view of a chat opens with: the chat, the reader's role, its latest messages (one more
    than a page, to know whether there are older ones) and what its replies cost."""
    latest = chats.latest_messages(chat.id, session=session, limit=HISTORY_PAGE + 1)
    return (
        chat_view(chat),
        role.value,
        chats.message_views(latest, session=session),
        chats.chat_cost(chat.id, session=session),
    )


def _sidebars(user, session) -> tuple[list[ChatView], list[ChatView]]:
    """The person's own chats and the chats others shared with them."""
    return (
        [chat_view(c) for c in chats.list_chats(user, session=session)],
        [chat_view(c) for c in sharing.shared_with(user, session=session)],
    )


class ChatState(AttachmentsMixin, AuthState):
    chats: list[ChatView] = []
    shared_chats: list[ChatView] = []  # chats others shared with this person
    no_access: bool = False  # a link or an invitation that does not let this person in, or access removed
    no_access_message: str = ""
    chat_id: str = ""
    chat_title: str = ""
    role: str = ""
    # Each update re-sends every var it assigns, whole. So the history loaded with the page is
    # never assigned while replies stream; what arrives later goes to the short `recent` list, and
    # the reply in flight to its own vars, split so a token re-sends at most SEAL_AT characters.
    messages: list[MessageView] = []
    recent: list[MessageView] = []
    has_earlier: bool = False  # older messages than the page shown exist
    _oldest_seq: int = 0  # the oldest message shown
    chat_cost: str = ""  # what the chat's replies cost so far, summed by the database
    hidden_id: str = ""  # a shown reply that is being regenerated
    live_id: str = ""
    live_sealed: str = ""
    live_tail: str = ""
    live_kind: str = "text"  # text | image | video: what the reply in flight makes
    live_status: str = ""  # a generation's status: starting | processing | downloading
    live_percent: int = -1  # from the model's logs; -1 when it gives none
    live_elapsed: str = ""
    _following: Following = Following()  # what the live channel and the database said so far
    model_id: str = ""
    models: list[dict[str, str]] = []
    notice: str = ""
    not_found: bool = False
    sidebar_open: bool = False
    rename_id: str = ""
    rename_title: str = ""
    delete_id: str = ""
    _follow_generation: int = 0

    # ----- loading -------------------------------------------------------------------
    @rx.event
    async def load_home(self):
        def work(user, session):
            default = user.default_model_id or default_model_id(session=session) or ""
            return user.email, default, _sidebars(user, session), _model_options(user, session)

        self._reset_chat()
        result, effect = await self._act(work)
        if effect:
            return effect
        self.user_email, self.model_id, (self.chats, self.shared_chats), self.models = result
        return EARLIER.push([])

    def _reset_chat(self) -> None:
        self.chat_id = self.chat_title = self.role = self.notice = ""
        self.messages, self.recent = [], []
        self.has_earlier, self._oldest_seq, self.chat_cost = False, 0, ""
        self.hidden_id = self.live_id = self.live_sealed = self.live_tail = ""
        self._clear_progress()
        self.attachments = []
        self._following = Following()
        self.not_found = self.no_access = False
        self.no_access_message = ""
        self.sidebar_open = False
        self._follow_generation += 1

    @rx.event
    async def load_chat(self):
        chat_id = self._last_path_part()

        def work(user, session):
            default = user.default_model_id or default_model_id(session=session) or ""
            about_user = (user.email, default, _model_options(user, session))
            try:
                chat, role = access.authorize(user, chat_id, "read", session=session)
            except DomainError:
                return about_user, _sidebars(user, session), None
            return about_user, _sidebars(user, session), _opened(chat, role, session)

        self._reset_chat()
        result, effect = await self._act(work)
        if effect:
            return effect
        (self.user_email, default, self.models), (self.chats, self.shared_chats), found = result
        if found is None:
            self.not_found = True
            return
        return self._show_chat(found, default)

    def _show_chat(self, found, default: str):
        chat, self.role, rows, cost = found
        self.has_earlier = len(rows) > HISTORY_PAGE
        rows = rows[-HISTORY_PAGE:]
        self._oldest_seq = rows[0]["seq"] if rows else 0
        self.chat_cost = money(cost)
        self.chat_id, self.chat_title = chat["id"], chat["title"]
        self.model_id = chat["model_id"] or default
        following = self._plain_following()
        if rows and rows[-1]["status"] in chats.IN_FLIGHT:
            rows, (in_flight,) = rows[:-1], rows[-1:]
            following.go_live(in_flight["id"], in_flight["content"], self._kind_of(in_flight["model_id"]))
        following.last_seq = rows[-1]["seq"] if rows else 0
        self._following = following
        self._show_live()
        self.messages = rows
        return [EARLIER.push([]), ChatState.follow_reply]

    @rx.event
    async def load_earlier(self):
        """The page of messages above the oldest one shown (the reader scrolled up)."""
        chat_id, before = self.chat_id, self._oldest_seq
        if not chat_id or not self.has_earlier:
            return

        def work(user, session):
            try:
                access.authorize(user, chat_id, "read", session=session)
            except access.NoAccess:
                return None
            rows = chats.messages_before(uuid.UUID(chat_id), before, session=session, limit=HISTORY_PAGE + 1)
            return chats.message_views(rows, session=session)

        rows = await self._as_visitor(work)
        if rows is None:
            self._deny("You no longer have access to this chat.")
            return
        if self.chat_id != chat_id or self._oldest_seq != before:
            return  # the reader moved on, or this page is already shown
        self.has_earlier = len(rows) > HISTORY_PAGE
        rows = rows[-HISTORY_PAGE:]
        if rows:
            self._oldest_seq = rows[0]["seq"]
        return _put_earlier_on_top(rows)

    @rx.event
    async def load_shared(self):
        """/share/<token>: members go to the chat, anyone sees a public chat read-only, a signed-out
        visitor signs in first, and everyone else learns only that they have no access."""
        token = self._last_path_part()

        def work(user, session):
            visit = sharing.open_link(user, token, session=session)
            about_user = (
                user.email if user else "",
                _sidebars(user, session) if user else ([], []),
                _model_options(user, session) if user else [],
            )
            if visit.outcome is not sharing.Outcome.public:
                return visit, about_user, None
            chat, role = access.authorize(user, visit.chat_id, "read", session=session)
            return visit, about_user, _opened(chat, role, session)

        self._reset_chat()
        (
            visit,
            (self.user_email, (self.chats, self.shared_chats), self.models),
            found,
        ) = await self._as_visitor(work)
        if visit.outcome is sharing.Outcome.open:
            return rx.redirect(f"/chat/{visit.chat_id}")
        if visit.outcome is sharing.Outcome.sign_in:
            return rx.redirect(f"/login?next={quote(self.router.url.path)}")
        if visit.outcome is sharing.Outcome.no_access:
            self._deny("You don't have access to this chat. Ask its owner to share it with you.")
            return
        return self._show_chat(found, "")

    @rx.event
    async def load_invite(self):
        """/invite/<token>: the invited person, signed in with the invited address, joins the chat."""
        token = self._last_path_part()
        self._reset_chat()
        try:
            chat_id = await self._as_user(
                lambda user, session: sharing.claim_invite(user, token, session=session)
            )
        except Unauthenticated:
            return self._login_redirect()  # sign in (or register) with the invited address, then come back
        except DomainError as exc:
            self._deny(str(exc))
            return
        return rx.redirect(f"/chat/{chat_id}")

    def _refusal(self, exc: DomainError):
        """When the chat itself is out of reach now (access removed, chat deleted), the view says
        so at once instead of showing what it may no longer show."""
        if isinstance(exc, access.NoAccess) and self.chat_id:
            self._deny("You no longer have access to this chat.")
            return rx.toast.error("You no longer have access to this chat.")
        return super()._refusal(exc)

    def _last_path_part(self) -> str:
        """The chat id of /chat/<id>, or the token of /share/<token> and /invite/<token>."""
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _deny(self, message: str) -> None:
        self._reset_chat()
        self.no_access, self.no_access_message = True, message

    @rx.event
    async def continue_in_my_account(self):
        """Copy the shared chat being read (messages and files) into the person's own chats."""
        chat_id = self.chat_id
        if not self.user_email:
            return rx.redirect(f"/login?next={quote(self.router.url.path)}")
        copy, effect = await self._act(
            lambda user, session: chat_view(sharing.continue_in_my_account(user, chat_id, session=session))
        )
        if effect:
            return effect
        return rx.redirect(f"/chat/{copy['id']}")

    # ----- sending -------------------------------------------------------------------
    @rx.event
    async def send_message(self, form_data: dict):
        content = str(form_data.get("content", ""))
        chat_id, model_id = self.chat_id, self.model_id
        attachment_ids = [a["id"] for a in self.attachments]
        if self.uploading:
            self.notice = "Wait for the attachments to finish uploading."
            return

        def work(user, session):
            target = chat_id or str(chats.create_chat(user, session=session, model_id=model_id).id)
            mine, reply = chats.post_message(
                user, target, content, session=session, model_id=model_id, attachment_ids=attachment_ids
            )
            # The first message names the chat; later ones leave the title as the page shows it.
            title = chats.title_of(mine.session_id, session=session) if mine.seq == 1 else None
            plan = replies.plan_for(reply, session=session)
            return target, title, plan, *chats.message_views([mine, reply], session=session)

        try:
            target, title, plan, mine, reply = await self._as_user(work)
        except Unauthenticated:
            return self._login_redirect()
        except access.NoAccess as exc:
            return self._refusal(exc)
        except Forbidden as exc:  # the owner made this person a reader meanwhile
            self.role = access.Role.viewer.value
            return rx.toast.error(str(exc))
        except DomainError as exc:
            self.notice = str(exc)  # said beside the composer, which keeps the text
            return
        self.notice = ""
        self.attachments = []
        replies.start_reply(target, reply["id"], plan=plan)
        if target != chat_id:  # the first message of a new chat: go to its own URL
            return [rx.set_value(COMPOSER_ID, ""), rx.redirect(f"/chat/{target}")]
        self.recent = [*self.recent, mine]
        self._go_live(reply["id"], self._kind_of(reply["model_id"]), after_seq=mine["seq"])
        # The chat moves to the top of the sidebar here: no database read before the reply's first token.
        if title is not None:
            self.chat_title = title
        self.chats = [{**c, "title": title or c["title"]} for c in self.chats if c["id"] == target] + [
            c for c in self.chats if c["id"] != target
        ]
        return [rx.set_value(COMPOSER_ID, ""), ChatState.follow_reply]

    @rx.event
    async def regenerate(self):
        chat_id, model_id = self.chat_id, self.model_id

        def work(user, session):
            again = chats.restart_last_reply(user, chat_id, session=session, model_id=model_id)
            return chats.message_views([again], session=session)[0], replies.plan_for(again, session=session)

        result, effect = await self._act(work)
        if effect:
            return effect
        reply, plan = result
        replies.start_reply(chat_id, reply["id"], plan=plan)
        self._go_live(reply["id"], self._kind_of(reply["model_id"]))
        return ChatState.follow_reply

    @rx.event
    async def stop_reply(self):
        """Stop the reply in flight, on whichever worker or machine it runs."""
        # The URL names the chat even if this tab's state was lost (a reconnect can bring a new one).
        chat_id = self.chat_id or (
            self._last_path_part() if self.router.url.path.startswith("/chat/") else ""
        )
        allowed, effect = await self._act(
            lambda user, session: str(access.authorize(user, chat_id, "stop", session=session)[0].id)
        )
        if effect:
            return effect
        await replies.stop_in_chat(allowed)

    # ----- following the live channel ------------------------------------------------
    @rx.event(background=True)
    async def follow_reply(self):
        """Follow the chat's live channel while the view is open: replies started by this tab,
        another tab, the API or another worker appear and grow here. A newer follower (or another
        chat) ends it."""
        async with self:
            self._follow_generation += 1
            generation, chat_id = self._follow_generation, self.chat_id
        if not chat_id:
            return
        loop = asyncio.get_running_loop()
        async with runtime.current().channel.follow(chat_id) as subscription:
            # The database is read after the channel's replay: together they miss nothing.
            await self._catch_up(chat_id)
            heard = loop.time()
            while loop.time() - heard < IDLE_FOLLOW_LIMIT:
                batch = await subscription.next_batch(timeout=1.0)
                async with self:
                    if self._follow_generation != generation:
                        return
                    following = self._plain_following()
                    outcome = following.apply(batch)
                    if batch:
                        self._following = following
                    self._show_outcome(outcome)
                    live = following.live is not None
                if batch:
                    heard = loop.time()
                if outcome.catch_up or (live and loop.time() - heard >= RESYNC_AFTER):
                    await self._catch_up(chat_id)
                    if live:
                        heard = loop.time()

    def _kind_of(self, model_id: str) -> str:
        return next((m["type"] for m in self.models if m["id"] == model_id), "text")

    def _clear_progress(self) -> None:
        self.live_kind, self.live_status, self.live_percent, self.live_elapsed = "text", "", -1, ""

    def _plain_following(self) -> Following:
        """The view's following as a plain object: its rules run on every batch of events, and
        Reflex's change tracking would wrap each attribute they touch. Assign it back to keep it."""
        return getattr(self._following, "__wrapped__", self._following)

    def _go_live(self, message_id: str, kind: str, after_seq: int | None = None) -> None:
        """This view just started (or restarted) `message_id`: show it as the reply in flight."""
        following = self._plain_following()
        if after_seq is not None:
            following.last_seq = after_seq
        following.go_live(message_id, "", kind)
        self._following = following
        self._show_outcome(Outcome(changed=True, went_live=message_id))

    def _show_outcome(self, outcome: Outcome) -> None:
        if outcome.went_live:
            self._hide_saved(outcome.went_live)
        if outcome.changed:
            self._show_live()

    def _hide_saved(self, message_id: str) -> None:
        """A shown message is being produced again: its saved version steps aside meanwhile."""
        if any(m["id"] == message_id for m in self.recent):
            self.recent = [m for m in self.recent if m["id"] != message_id]
        elif any(m["id"] == message_id for m in self.messages):
            self.hidden_id = message_id

    def _show_live(self) -> None:
        """Put the reply in flight into the vars the page shows, assigning only what changed."""
        live = self._plain_following().live
        if live is None:
            if self.live_id:
                self.live_id = self.live_sealed = self.live_tail = ""
                self._clear_progress()
            return
        if self.live_id != live.message_id:
            self.live_id = live.message_id
        cut = len(live.text) - len(live.text) % SEAL_AT
        if self.live_sealed != live.text[:cut]:
            self.live_sealed = live.text[:cut]
        if self.live_tail != live.text[cut:]:
            self.live_tail = live.text[cut:]
        if self.live_kind != live.kind:
            self.live_kind = live.kind
        if live.kind != "text":
            self.live_status = live.status or "starting"
            self.live_percent = live.percent
            self.live_elapsed = f"{int(live.elapsed) // 60}:{int(live.elapsed) % 60:02d}"

    async def _catch_up(self, chat_id: str) -> None:
        """Read what the view has not shown yet: saved replies, messages from other tabs, the
        saved text of the reply in flight."""
        async with self:
            after, awaiting = self._following.last_seq, list(self._following.awaiting)
        token = self._session_token()

        def work():
            with session_scope() as session:
                reader = accounts.user_for_token(token, session=session)
                try:  # access can be taken away while the chat is open
                    access.authorize(reader, chat_id, "read", session=session)
                except access.NoAccess:
                    return None
                rows = chats.messages_since(uuid.UUID(chat_id), after, session=session)
                seen = {str(m.id) for m in rows}
                rows += [session.get(Message, uuid.UUID(i)) for i in awaiting if i not in seen]
                views = chats.message_views([m for m in rows if m is not None], session=session)
                return views, chats.chat_cost(uuid.UUID(chat_id), session=session)

        fresh = await asyncio.to_thread(work)
        async with self:
            if self.chat_id != chat_id:
                return
            if fresh is None:
                self._deny("You no longer have access to this chat.")
                return
            # Settling saved messages is idempotent, so even a follower that a newer one has
            # replaced applies what it read: nothing it read may be lost.
            following = self._plain_following()
            rows, cost = fresh
            done, outcome = following.settle(rows, self._kind_of)
            self._following = following
            self._show_outcome(outcome)
            if self.chat_cost != money(cost):
                self.chat_cost = money(cost)
            if done:
                ids = {m["id"] for m in done}
                # A regenerated message's new version joins the recent ones; the loaded one stays hidden.
                self.recent = [m for m in self.recent if m["id"] not in ids] + done

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
    def model_type(self) -> str:
        """The type of the chosen model: the composer fits it (text, image or video)."""
        return next((m["type"] for m in self.models if m["id"] == self.model_id), "text")

    @rx.var
    def model_name(self) -> str:
        return next((m["name"] for m in self.models if m["id"] == self.model_id), "Choose a model")

    @rx.var
    def last_message_id(self) -> str:
        if self.recent:
            return self.recent[-1]["id"]
        return self.messages[-1]["id"] if self.messages else ""

    @rx.var
    def is_empty(self) -> bool:
        return not (self.messages or self.recent or self.live_id)

    @rx.var
    def attach_refusal(self) -> str:
        """Why the chosen model cannot take the attachments (or any image): the UI blocks with it."""
        model = next((m for m in self.models if m["id"] == self.model_id), None)
        if model is None:
            return ""
        if any(a["kind"] == "video" for a in self.attachments) and model["video_refusal"]:
            return model["video_refusal"]
        return model["image_refusal"]

    @rx.var
    def can_post(self) -> bool:
        return self.role in ("owner", "editor") or self.chat_id == ""
