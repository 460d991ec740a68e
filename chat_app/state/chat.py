"""The chat page: opening a chat (or a link to one), its history, sending and the model."""

from __future__ import annotations

import json
import uuid
from typing import NamedTuple, TypedDict
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from chat_app.models import Chat, User
from chat_app.services import access, branches, catalog, chats, replies, sharing
from chat_app.services.errors import DomainError, Forbidden, Unauthenticated
from chat_app.services.views import ChatView, MessageView, chat_view, money
from chat_app.state.attachments import AttachmentsMixin
from chat_app.state.auth import AuthState, Refused
from chat_app.state.client_states import held_now
from chat_app.state.following import Following
from chat_app.state.live_reply import HISTORY_PAGE, LiveReplyMixin, live_text_script
from chat_app.state.live_text import LiveTextSync
from chat_app.state.sidebar import SidebarState, sidebar_lists

COMPOSER_ID = "composer"  # cleared only once a message is saved, so a refused one keeps its text

# Pages of older messages live in the browser only: the state keeps the latest page, so it stays
# the same size however long the chat, and a page once sent is never sent again.
EARLIER = rx._x.client_state("earlier_messages", default=[])


def _put_earlier_on_top(rows: list[MessageView]) -> list:
    """Prepend a page to the older messages the browser holds, keeping the reader's place.

    JSON is a safe JavaScript literal, so message text cannot become code.
    """
    shown = held_now(EARLIER)
    page = rx.Var(
        f"[...{json.dumps(rows)}, ...({shown._js_expr} ?? [])]", _var_data=shown._get_all_var_data()
    )
    return [rx.call_script("window.chatKeepPlace?.()"), EARLIER.push(page)]


class ModelOption(TypedDict):
    id: str
    label: str
    available: bool
    reason: str
    type: str
    name: str
    image_refusal: str  # why this model cannot take an image attachment ("" when it can)
    video_refusal: str


def _model_options(user: User | None, session: Session) -> list[ModelOption]:
    if user is None:
        return []
    return [
        ModelOption(
            id=m["id"],
            label=m["name"] if m["available"] else f"{m['name']} (unavailable)",
            available=m["available"],
            reason=m["unavailable_reason"],
            type=m["type"],
            name=m["name"],
            image_refusal=chats.refusal_for(m["name"], m["type"], m["capabilities"], {"image"}),
            video_refusal=chats.refusal_for(m["name"], m["type"], m["capabilities"], {"video"}),
        )
        for m in catalog.list_models(session=session, sort="provider", reader=user)
    ]


Opened = tuple[ChatView, access.Role, list[MessageView], float]


MOST_MESSAGES_JUMPED = 2_000  # how far up its branch a link to one message may reach at once


def _opened(
    chat: Chat,
    role: access.Role,
    session: Session,
    link_token: str = "",
    leaf: uuid.UUID | None = None,
    reach: int = HISTORY_PAGE,
) -> Opened:
    """What a view of a chat opens with: the chat, the reader's role, the latest `reach` messages
    of the branch ending at `leaf` (the one the chat shows when None) and what its replies cost."""
    reach = min(max(reach, HISTORY_PAGE), MOST_MESSAGES_JUMPED)
    if leaf is None:
        latest = chats.branch_of(chat, session=session, limit=reach)
    else:
        latest = chats.branch_above(leaf, session=session, limit=reach)
    return (
        chat_view(chat),
        role,
        chats.message_views(latest, session=session, link_token=link_token),
        chats.chat_cost(chat.id, session=session),
    )


class Looked(NamedTuple):
    """A view opened on a branch: what it shows, and whether the branch is the reader's own look
    (not the chat's selected one) or became the selected one."""

    opened: Opened
    own_leaf: str = ""
    selected: bool = False


def _opened_at(chat: Chat, role: access.Role, at: str, session: Session) -> Looked:
    """The view a link to one message opens: a branch holding it, reaching up to it. A member who
    may write moves the chat to that branch (what they write next follows it); a reader only looks."""
    try:
        message = chats.message_in(chat.id, at, session=session) if at else None
    except DomainError:
        message = None  # a link to a message since gone still opens the chat
    if message is None:
        return Looked(_opened(chat, role, session))
    leaf, reach = chats.branch_through(chat, message, session=session)
    if leaf == branches.leaf_of(chat, session=session):
        return Looked(_opened(chat, role, session, reach=reach))
    if chats.select_branch(chat, role, leaf, session=session):
        return Looked(_opened(chat, role, session, reach=reach), selected=True)
    return Looked(_opened(chat, role, session, leaf=leaf, reach=reach), own_leaf=str(leaf))


class ChatState(LiveReplyMixin, AttachmentsMixin, AuthState):
    # a link or an invitation that does not let this person in, or access removed
    no_access: rx.Field[bool] = rx.field(False)
    no_access_message: rx.Field[str] = rx.field("")
    chat_id: rx.Field[str] = rx.field("")
    chat_title: rx.Field[str] = rx.field("")
    # What the reader may do here, decided by the access rule (a new chat is the writer's own).
    can_post: rx.Field[bool] = rx.field(True)
    can_share: rx.Field[bool] = rx.field(False)
    can_set_model: rx.Field[bool] = rx.field(True)
    can_export: rx.Field[bool] = rx.field(False)  # members export; a reader by link copies what they see
    # the latest page, loaded with the chat; see LiveReplyMixin
    messages: rx.Field[list[MessageView]] = rx.field(default_factory=list)
    has_earlier: rx.Field[bool] = rx.field(False)  # older messages than the page shown exist
    _above_oldest: str = ""  # the message just above the oldest one shown, on its branch
    editing_id: rx.Field[str] = rx.field("")  # the message being edited here (a new version of it)
    chat_cost: rx.Field[str] = rx.field("")  # what the chat's replies cost so far, summed by the database
    model_id: rx.Field[str] = rx.field("")
    models: rx.Field[list[ModelOption]] = rx.field(default_factory=list)
    notice: rx.Field[str] = rx.field("")
    not_found: rx.Field[bool] = rx.field(False)
    # The share link this view was opened by: a reader who is no member reads by it alone, so every
    # later read presents it (and a rotated link ends the view). Kept on the server, as the link
    # that was checked when the page opened.
    _link_token: str = ""
    # A chat this view just made by sending its first message: its page, once open, gives the
    # composer the focus (a click on Send left it nowhere), so the next message is typed at once.
    _made_here: str = ""

    # ----- loading -------------------------------------------------------------------
    @rx.event
    async def load_home(self):
        def work(user, session):
            default = catalog.default_model_for(user, session=session) or ""
            return user.email, default, sidebar_lists(user, session), _model_options(user, session)

        self._reset_chat()
        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        self.user_email, self.model_id, lists, self.models = result
        (await self.get_state(SidebarState)).show(lists)
        return EARLIER.push([])

    def _reset_chat(self) -> None:
        self.chat_id = self.chat_title = self.notice = ""
        self._allow(access.NEW_CHAT)
        self.messages = []
        self.has_earlier, self._above_oldest, self.chat_cost = False, "", ""
        self.editing_id = ""
        self._stop_following()
        self.attachments = []
        self.not_found = self.no_access = False
        self.no_access_message = ""
        self._link_token = ""
        self.can_export = False

    def _allow(self, permissions: access.Permissions) -> None:
        self.can_post = permissions.can_post
        self.can_share = permissions.can_share
        self.can_set_model = permissions.can_set_model

    @rx.event
    async def load_chat(self):
        chat_id = self._last_path_part()
        at = self.router.url.query_parameters.get("at", "")  # a link to one message (a search result)

        def work(user, session):
            default = catalog.default_model_for(user, session=session) or ""
            about_user = (user.email, default, _model_options(user, session))
            try:
                chat, role = access.authorize(user, chat_id, "read", session=session)
            except DomainError:
                return about_user, sidebar_lists(user, session), None
            return about_user, sidebar_lists(user, session), _opened_at(chat, role, at, session)

        self._reset_chat()
        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        (self.user_email, default, self.models), lists, looked = result
        (await self.get_state(SidebarState)).show(lists)
        if looked is None:
            self.not_found = True
            return
        if looked.selected:
            replies.announce_branch(chat_id)
        events = self._show_chat(looked.opened, default)
        self._own_leaf = looked.own_leaf
        if self._made_here == chat_id:
            self._made_here = ""
            events.append(rx.set_focus(COMPOSER_ID))
        return events

    def _show_chat(self, found: Opened, default: str):
        chat, role, rows, cost = found
        self._allow(access.permissions(role))
        self.can_export = self._link_token == ""
        self.chat_id, self.chat_title = chat["id"], chat["title"]
        self.model_id = chat["model_id"] or default
        return [*self._show_branch(rows, cost), ChatState.follow_reply]

    def _show_branch(self, rows: list[MessageView], cost: float) -> list:
        """Show a page of a branch (the view opened, or moved to another branch): what was shown
        before, streamed or kept in the browser goes. Rows past a page (a link to an older
        message reached up to it) go to the browser's earlier messages."""
        rows, earlier = rows[-HISTORY_PAGE:], rows[:-HISTORY_PAGE]
        self.recent, self.hidden_id, self.editing_id, self.kept_id = [], "", "", ""
        self._own_leaf = ""
        oldest = (earlier or rows)[0] if rows else None
        self._above_oldest = oldest["parent_id"] if oldest else ""
        self.has_earlier = self._above_oldest != ""
        self.chat_cost = money(cost)
        following = Following()
        if rows and rows[-1]["status"] in chats.IN_FLIGHT:
            rows, (in_flight,) = rows[:-1], rows[-1:]
            following.go_live(in_flight["id"], in_flight["content"], self._kind_of(in_flight["model_id"]))
        following.last_seq = rows[-1]["seq"] if rows else 0
        self._following = following
        self._live_text = LiveTextSync()
        self._show_live()
        text = self._live_text_events()
        self.messages = rows
        # The texts kept of replies streamed here belong to what was shown before: these come whole.
        return [EARLIER.push(earlier), live_text_script("forget(refs)"), *text]

    @rx.event
    async def load_earlier(self):
        """The page of messages above the oldest one shown (the reader scrolled up)."""
        chat_id, above, link_token = self.chat_id, self._above_oldest, self._link_token
        if not chat_id or not self.has_earlier or not above:
            return

        def work(user, session):
            try:
                chat, _ = access.authorize(user, chat_id, "read", session=session, link_token=link_token)
                top = chats.message_in(chat.id, above, session=session)
            except access.NoAccess:
                return None
            rows = chats.branch_above(top.id, session=session, limit=HISTORY_PAGE)
            return chats.message_views(rows, session=session, link_token=link_token)

        rows = await self._as_visitor(work)
        if rows is None:
            self._deny("You no longer have access to this chat.")
            return
        if self.chat_id != chat_id or self._above_oldest != above:
            return  # the reader moved on, or this page is already shown
        self._above_oldest = rows[0]["parent_id"] if rows else ""
        self.has_earlier = self._above_oldest != ""
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
                sidebar_lists(user, session),
                _model_options(user, session),
            )
            if visit.outcome is not sharing.Outcome.public:
                return visit, about_user, None
            chat, role = access.authorize(user, visit.chat_id, "read", session=session, link_token=token)
            return visit, about_user, _opened(chat, role, session, link_token=token)

        self._reset_chat()
        visit, (self.user_email, lists, self.models), found = await self._as_visitor(work)
        (await self.get_state(SidebarState)).show(lists)
        if visit.outcome is sharing.Outcome.open:
            return rx.redirect(f"/chat/{visit.chat_id}")
        if visit.outcome is sharing.Outcome.sign_in:
            return rx.redirect(f"/login?next={quote(self.router.url.path)}")
        if visit.outcome is sharing.Outcome.no_access:
            self._deny("You don't have access to this chat. Ask its owner to share it with you.")
            return
        assert found is not None  # what is left is a public chat, opened in `work`
        self._link_token = token
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
        chat_id, link_token = self.chat_id, self._link_token
        if not self.user_email:
            return rx.redirect(f"/login?next={quote(self.router.url.path)}")
        copy = await self._act(
            lambda user, session: chat_view(
                sharing.continue_in_my_account(user, chat_id, session=session, link_token=link_token)
            )
        )
        if isinstance(copy, Refused):
            return copy.effect
        return rx.redirect(f"/chat/{copy['id']}")

    # ----- sending -------------------------------------------------------------------
    @rx.event
    async def send_message(self, form_data: dict):
        content = str(form_data.get("content", ""))
        chat_id, model_id = self.chat_id, self._chosen_model()
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
            title = chats.title_of(mine.chat_id, session=session) if mine.seq == 1 else None
            plan = replies.plan_for(reply, session=session)
            return target, title, plan, *chats.message_views([mine, reply], session=session)

        try:
            target, title, plan, mine, reply = await self._as_user(work)
        except Unauthenticated:
            return self._login_redirect()
        except access.NoAccess as exc:
            return self._refusal(exc)
        except Forbidden as exc:  # the owner made this person a reader meanwhile
            self._allow(access.permissions(access.Role.viewer))
            return rx.toast.error(str(exc))
        except DomainError as exc:
            self.notice = str(exc)  # said beside the composer, which keeps the text
            return
        self.notice = ""
        self.attachments = []
        replies.start_reply(target, reply["id"], plan=plan)
        if target != chat_id:  # the first message of a new chat: go to its own URL
            self._made_here = target
            return [rx.set_value(COMPOSER_ID, ""), rx.redirect(f"/chat/{target}")]
        self.recent = [*self.recent, mine]
        text = self._go_live(reply["id"], self._kind_of(reply["model_id"]), after_seq=mine["seq"])
        # The chat moves to the top of the sidebar here: no database read before the reply's first token.
        if title is not None:
            self.chat_title = title
        (await self.get_state(SidebarState)).put_on_top(target, title)
        return [rx.set_value(COMPOSER_ID, ""), *text, *self._keep_following()]

    @rx.event
    async def regenerate(self):
        """A new version of the last reply (shown in its place; the old one stays a version)."""
        chat_id, model_id, shown = self.chat_id, self._chosen_model(), self.last_message_id

        def work(user, session):
            again = chats.regenerate_reply(user, chat_id, session=session, model_id=model_id)
            plan = replies.plan_for(again, session=session)
            return chats.message_views([again], session=session)[0], plan

        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        reply, plan = result
        replies.start_reply(chat_id, reply["id"], plan=plan)
        if shown and shown != reply["id"]:
            self._hide_saved(shown)
        text = self._go_live(reply["id"], self._kind_of(reply["model_id"]))
        return [*text, *self._keep_following()]

    # ----- versions: edits and branches -----------------------------------------------
    @rx.event
    def start_edit(self, message_id: str):
        self.editing_id = message_id

    @rx.event
    def cancel_edit(self):
        self.editing_id = ""

    @rx.event
    async def save_edit(self, form_data: dict):
        """Send the edited message as a new version of it: the chat moves to that branch."""
        content = str(form_data.get("content", ""))
        chat_id, message_id, model_id = self.chat_id, self.editing_id, self._chosen_model()
        if not message_id:
            return

        def work(user, session):
            _mine, reply = chats.edit_message(
                user, chat_id, message_id, content, session=session, model_id=model_id
            )
            plan = replies.plan_for(reply, session=session)
            chat, role = access.authorize(user, chat_id, "read", session=session)
            return str(reply.id), plan, _opened(chat, role, session)

        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        reply_id, plan, found = result
        replies.start_reply(chat_id, reply_id, plan=plan)
        # The edit box is gone with the old branch: the focus goes to the composer, not the page.
        return [*self._show_chat(found, self.model_id), rx.set_focus(COMPOSER_ID)]

    @rx.event
    async def switch_branch(self, message_id: str, step: int):
        """Show the previous (-1) or next (+1) version of a message, and the branch below it. A
        member who may write leaves it selected for everyone."""
        chat_id, link_token = self.chat_id, self._link_token

        def work(user, session):
            leaf = chats.switch_branch(
                user, chat_id, message_id, step, session=session, link_token=link_token
            )
            chat, role = access.authorize(user, chat_id, "read", session=session, link_token=link_token)
            return access.can(role, "post"), _opened(chat, role, session, link_token, leaf=leaf)

        try:
            kept, (_chat, _role, rows, cost) = await self._as_visitor(work)
        except DomainError as exc:
            return self._refusal(exc)
        if kept:
            replies.announce_branch(chat_id)
        return self._show_branch(rows, cost)

    @rx.event(background=True)
    async def stop_reply(self):
        """Stop the reply in flight, on whichever worker or machine it runs. The tab's state is not
        held meanwhile: its follower goes on showing the reply until its end arrives."""
        async with self:
            # The URL names the chat even if this tab's state was lost (a reconnect can bring a new one).
            chat_id = self.chat_id or (
                self._last_path_part() if self.router.url.path.startswith("/chat/") else ""
            )
            link_token, shown = self._link_token, self.live_id
        try:
            allowed = await self._as_user(
                lambda user, session: str(
                    access.authorize(user, chat_id, "stop", session=session, link_token=link_token)[0].id
                )
            )
        except Unauthenticated:
            return self._login_redirect()
        except DomainError as exc:
            async with self:
                return self._refusal(exc)
        async with self:
            self._stopped_here = shown  # the end this causes needs no word from afar
        await replies.stop_in_chat(allowed)

    def _kind_of(self, model_id: str) -> str:
        return next((m["type"] for m in self.models if m["id"] == model_id), "text")

    def _chosen_model(self) -> str | None:
        """The model to write with: the reader's choice when they may choose it, else the chat's own
        (None), which the owner may have changed since this page loaded."""
        return self.model_id if self.can_set_model else None

    # ----- the model ---------------------------------------------------------------
    @rx.event
    async def set_model(self, model_id: str):
        chat_id = self.chat_id

        def work(user, session):
            if chat_id:
                chats.set_chat_model(user, chat_id, model_id, session=session)
            else:
                chats.set_default_model(user, model_id, session=session)

        done = await self._act(work)
        if isinstance(done, Refused):
            return done.effect
        self.model_id = model_id

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
    def has_usable_model(self) -> bool:
        """Some model can answer this person now (a provider is set up, or they stored a key)."""
        return any(m["available"] for m in self.models)

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
