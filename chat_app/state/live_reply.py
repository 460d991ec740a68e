"""The reply in flight as a view shows it: following the chat's live channel and the database."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import reflex as rx
from reflex.event import EventSpec
from sqlmodel import Session

from chat_app.db import session_scope
from chat_app.models import Chat, Message
from chat_app.services import access, accounts, chats, runtime
from chat_app.services.views import MessageView, money, with_counts
from chat_app.state import followers, tabs
from chat_app.state.following import Following, Outcome
from chat_app.state.live_text import LiveTextSync
from chat_app.state.sidebar import SidebarState

HISTORY_PAGE = (
    50  # messages a view of a chat opens with; older ones come a page at a time as the reader scrolls up
)
IDLE_FOLLOW_LIMIT = 15 * 60  # seconds a quiet open view keeps following (it follows again on its next send)
RESYNC_AFTER = 5.0  # seconds of silence from a reply in flight after which the view reads the database
# Seconds a view goes on showing a streaming reply before it checks again that its reader still
# has access (removed from the chat, or the link they came by changed): then it stops at once.
ACCESS_RECHECK = 3.0
TAB_CHECK = 5.0  # seconds between two looks at whether the view's tab is still open
# The text of the reply in flight lives in the browser: assets/live.js keeps it and hands it to
# this client state, which the page shows (state/live_text.py says what to send it). live.js sets
# the state through `refs`, as LIVE_TEXT.push would, with a script a tenth its size: it is sent a
# few times a second per viewer.
LIVE_TEXT = rx._x.client_state("live_text", default="")
# A reply that ended as the browser showed it keeps that text there, by message id: its saved
# version comes without it, and the page shows it from here.
KEPT_TEXTS = rx._x.client_state("kept_texts", default={})
LIVE_RESYNC_ID = "live-resync"  # clicked by live.js when the text it has missed an update


NO_LONGER = "You no longer have access to this chat."
# What a view says of what happened elsewhere (another window, a member, a program, the server).
MOVED_ELSEWHERE = "This chat now shows another version: it was changed in another window or by a member."
STOPPED_ELSEWHERE = "The reply was stopped."


def live_text_script(call: str) -> EventSpec:
    """A call of assets/live.js (which may still be loading on a page's first load)."""
    return rx.call_script(f"window.liveText?.{call}")


def _may_read(token: str | None, chat_id: str, link_token: str, *, session: Session) -> bool:
    """Whether the session's reader may still read the chat: access can be taken away while the
    chat is open, or the link they came by changed."""
    reader = accounts.user_for_token(token, session=session)
    try:
        access.authorize(reader, chat_id, "read", session=session, link_token=link_token)
    except access.NoAccess:
        return False
    return True


class LiveReplyMixin(rx.State, mixin=True):
    """Each update re-sends every var it assigns, whole. So the history loaded with the page is
    never assigned while replies stream; what arrives later goes to the short `recent` list, and
    the text of the reply in flight goes to the browser a piece at a time (LIVE_TEXT)."""

    recent: rx.Field[list[MessageView]] = rx.field(default_factory=list)
    hidden_id: rx.Field[str] = rx.field("")  # a shown reply that is being regenerated
    # The last reply that ended as the page streamed it (its text is the one the page kept).
    kept_id: rx.Field[str] = rx.field("")
    live_id: rx.Field[str] = rx.field("")
    live_kind: rx.Field[str] = rx.field("text")  # text | image | video: what the reply in flight makes
    live_status: rx.Field[str] = rx.field("")  # a generation's status: starting | processing | downloading
    live_percent: rx.Field[int] = rx.field(-1)  # from the model's logs; -1 when it gives none
    live_elapsed: rx.Field[str] = rx.field("")
    _following: Following = Following()  # what the live channel and the database said so far
    # The branch a reader chose to look at, when it is not the one the chat shows (their own look,
    # which the view follows); "" when it is the chat's.
    _own_leaf: str = ""
    _follow_generation: int = 0
    _stopped_here: str = ""  # the reply this view asked to stop (its end needs no word from afar)
    _live_text: LiveTextSync = LiveTextSync()  # what the browser's copy of the live text holds

    if TYPE_CHECKING:  # what the chat page's state, which this is mixed into, provides
        chat_id: rx.Field[str]
        messages: rx.Field[list[MessageView]]
        chat_cost: rx.Field[str]
        chat_title: rx.Field[str]
        _link_token: str

        def _kind_of(self, model_id: str) -> str: ...
        def _show_branch(self, rows: list[MessageView], cost: float) -> list: ...
        def _deny(self, message: str) -> None: ...
        def _session_token(self) -> str | None: ...

    def _stop_following(self) -> None:
        """The view shows another chat (or none): forget the reply in flight and end the follower."""
        self.recent = []
        self.hidden_id = self.live_id = self.kept_id = self._own_leaf = ""
        self._clear_progress()
        self._following = Following()
        self._follow_generation += 1

    @rx.event(background=True)
    async def follow_reply(self):
        """Follow the chat's live channel while the view is open: replies started by this tab,
        another tab, the API or another worker appear and grow here. A newer follower (or another
        chat, or the tab closing) ends it."""
        async with self:
            self._follow_generation += 1
            generation, chat_id = self._follow_generation, self.chat_id
            tab = self.router.session.client_token
        if not chat_id:
            return
        loop = asyncio.get_running_loop()
        async with runtime.current().channel.follow(chat_id) as subscription:
            # The database is read after the channel's replay: together they miss nothing.
            yield await self._catch_up(chat_id)
            checked = tab_checked = loop.time()
            tab_missing = 0
            due: float | None = None  # when text held back must go out
            live = True  # whether a reply was in flight when the view last looked (at first: unknown)
            with followers.running(tab, generation, loop.time()) as me:
                while loop.time() - me.heard < IDLE_FOLLOW_LIMIT:
                    wait = 1.0 if due is None else max(due - loop.time(), 0.0)
                    batch = await subscription.next_batch(timeout=wait)
                    looked = loop.time() - tab_checked >= TAB_CHECK
                    if looked:
                        # Twice in a row: a tab that only reconnects opens its chat again meanwhile.
                        tab_checked = loop.time()
                        tab_missing = 0 if tabs.is_open(tab) else tab_missing + 1
                        if tab_missing >= 2:
                            return
                    if not (batch or live or due is not None or looked):
                        # A quiet chat: the tab's state (with Redis, a load and a store) is left
                        # alone; a newer follower is noticed at the next look.
                        continue
                    if batch and loop.time() - checked >= ACCESS_RECHECK:
                        # A reader who lost access is shown nothing more (the view is reset, which
                        # ends this follower below).
                        await self._recheck_access(chat_id)
                        checked = loop.time()
                    async with self:
                        if self._follow_generation != generation:
                            return
                        following = self._plain_following()
                        outcome = following.apply(batch)
                        if batch:
                            self._following = following
                        self._show_outcome(outcome)
                        if outcome.title:
                            await self._retitle(chat_id, outcome.title)
                        text_update, due = self._live_text_update(now=loop.time())
                        live = following.live is not None
                    if text_update is not None:
                        yield text_update
                    if batch:
                        me.heard = loop.time()
                    if outcome.counted:
                        await self._show_counts(chat_id, outcome.counted)
                    if outcome.catch_up or (live and loop.time() - me.heard >= RESYNC_AFTER):
                        yield await self._catch_up(chat_id)
                        checked = loop.time()
                        if live:
                            me.heard = loop.time()

    def _keep_following(self) -> list:
        """What makes the view follow a reply it just started: nothing when its follower still runs
        on this worker (it hears the reply start), else a new follower."""
        now = asyncio.get_running_loop().time()
        if followers.keep(self.router.session.client_token, self._follow_generation, now):
            return []
        return [type(self).follow_reply]

    async def _retitle(self, chat_id: str, title: str) -> None:
        """The chat's title was written from its first exchange: the header and the sidebar show it."""
        self.chat_title = title
        (await self.get_state(SidebarState)).retitle(chat_id, title)

    @rx.event
    def resync_live_text(self):
        """The browser's copy of the live text missed an update (a reconnect): send it whole."""
        self._live_text = LiveTextSync()
        return self._live_text_events()

    def _clear_progress(self) -> None:
        self.live_kind, self.live_status, self.live_percent, self.live_elapsed = "text", "", -1, ""

    def _plain_following(self) -> Following:
        """The view's following as a plain object: its rules run on every batch of events, and
        Reflex's change tracking would wrap each attribute they touch. Assign it back to keep it."""
        return getattr(self._following, "__wrapped__", self._following)

    def _plain_live_text(self) -> LiveTextSync:
        """The same for what the browser's live text holds."""
        return getattr(self._live_text, "__wrapped__", self._live_text)

    def _go_live(self, message_id: str, kind: str, after_seq: int | None = None) -> list[EventSpec]:
        """This view just started (or restarted) `message_id`: show it as the reply in flight
        (the event returned clears the browser's live text)."""
        following = self._plain_following()
        if after_seq is not None:
            following.last_seq = after_seq
        following.go_live(message_id, "", kind)
        self._following = following
        self._show_outcome(Outcome(changed=True, went_live=message_id))
        return self._live_text_events()

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
        """Put the reply in flight into the vars the page shows, assigning only what changed (its
        text goes by `_live_text_update`)."""
        live = self._plain_following().live
        if live is None:
            if self.live_id:
                self.live_id = ""
                self._clear_progress()
            return
        if self.live_id != live.message_id:
            self.live_id = live.message_id
        if self.live_kind != live.kind:
            self.live_kind = live.kind
        if live.kind != "text":
            self.live_status = live.status or "starting"
            self.live_percent = live.percent
            self.live_elapsed = f"{int(live.elapsed) // 60}:{int(live.elapsed) % 60:02d}"

    def _live_text_events(self) -> list[EventSpec]:
        """The browser's live text brought up to date at once, as events to return."""
        event, _due = self._live_text_update()
        return [event] if event is not None else []

    def _live_text_update(self, now: float | None = None) -> tuple[EventSpec | None, float | None]:
        """The event bringing the browser's live text up to date (None: it is), and when text held
        back is due (see LiveTextSync.update)."""
        sync = self._plain_live_text()
        call, due = sync.update(self._plain_following().live, now)
        if call is not None:
            self._live_text = sync
        return (live_text_script(call) if call else None), due

    async def _recheck_access(self, chat_id: str) -> None:
        """While a reply streams, whether the reader may still read the chat (one short query
        pair, not a catch-up): the view of one who may not is reset."""
        async with self:
            link_token = self._link_token
        token = self._session_token()

        def work() -> bool:
            with session_scope() as session:
                return _may_read(token, chat_id, link_token, session=session)

        if not await asyncio.to_thread(work):
            async with self:
                if self.chat_id == chat_id:
                    self._deny(NO_LONGER)

    async def _show_counts(self, chat_id: str, message_ids: list[str]) -> None:
        """Replies saved as their text finished, now that the provider counted their tokens: their
        footers and the chat's cost. A reply is usually among the `recent` ones (it ended in this
        view); one the view loaded in between (the page of a chat just made) is patched in the
        loaded page, once."""
        async with self:
            shown = {m["id"] for m in (*self.recent, *self.messages)}
            wanted = [i for i in message_ids if i in shown]
            link_token = self._link_token
        token = self._session_token()

        def work() -> tuple[dict[str, tuple[int | None, int | None, float | None]], float] | None:
            with session_scope() as session:
                if not _may_read(token, chat_id, link_token, session=session):
                    return None
                chat = uuid.UUID(chat_id)
                counts = chats.counts_of(chat, wanted, session=session) if wanted else {}
                return counts, chats.chat_cost(chat, session=session)

        fresh = await asyncio.to_thread(work)
        async with self:
            if fresh is None or self.chat_id != chat_id:
                return
            counts, cost = fresh
            if any(m["id"] in counts for m in self.recent):
                self.recent = [
                    with_counts(m, *counts[m["id"]]) if m["id"] in counts else m for m in self.recent
                ]
            if any(m["id"] in counts for m in self.messages):
                self.messages = [
                    with_counts(m, *counts[m["id"]]) if m["id"] in counts else m for m in self.messages
                ]
            if self.chat_cost != money(cost):
                self.chat_cost = money(cost)

    def _tip(self) -> str:
        """The last saved message the view shows: the chat's branch goes on below it, or the view
        shows another branch."""
        shown = [*(m for m in self.messages if m["id"] != self.hidden_id), *self.recent]
        return shown[-1]["id"] if shown else ""

    async def _catch_up(self, chat_id: str) -> list[EventSpec]:
        """Read what the view has not shown yet: saved replies, messages from other tabs, the
        saved text of the reply in flight; or, when the chat now shows another branch, that branch."""
        async with self:
            tip, awaiting = self._tip(), list(self._following.awaiting)
            link_token, own_leaf = self._link_token, self._own_leaf
        token = self._session_token()

        def work() -> tuple[list[MessageView], float, bool] | None:
            with session_scope() as session:
                if not _may_read(token, chat_id, link_token, session=session):
                    return None
                chat = session.get(Chat, uuid.UUID(chat_id))
                if chat is None:
                    return None
                shown = session.get(Message, uuid.UUID(tip)) if tip else None
                leaf = uuid.UUID(own_leaf) if own_leaf else None
                since = chats.branch_since(chat, shown, session=session, leaf=leaf)
                if not since.joins:
                    rows = chats.branch_of(chat, session=session, limit=HISTORY_PAGE)
                else:
                    rows = since.rows
                    seen = {str(m.id) for m in rows}
                    waited = (session.get(Message, uuid.UUID(i)) for i in awaiting if i not in seen)
                    rows += [m for m in waited if m is not None]
                views = chats.message_views(rows, session=session, link_token=link_token)
                return views, chats.chat_cost(chat.id, session=session), since.joins

        fresh = await asyncio.to_thread(work)
        async with self:
            if self.chat_id != chat_id:
                return []
            if fresh is None:
                self._deny(NO_LONGER)
                return []
            rows, cost, joins = fresh
            if not joins:  # an edit or a version chosen in another window, or by a member
                return [*self._show_branch(rows, cost), rx.toast.info(MOVED_ELSEWHERE)]
            # Settling saved messages is idempotent, so even a follower that a newer one has
            # replaced applies what it read: nothing it read may be lost.
            following = self._plain_following()
            sync = self._plain_live_text()
            in_page = sync.in_page(following.live)
            was_live = following.live.message_id if following.live else ""
            done, outcome = following.settle(rows, self._kind_of)
            self._following = following
            self._show_outcome(outcome)
            done, calls = sync.keep(done, in_page)
            self._live_text = sync
            if calls and in_page is not None:
                self.kept_id = in_page[0]
            events = [*(live_text_script(call) for call in calls), *self._live_text_events()]
            if (
                any(m["id"] == was_live and m["status"] == "stopped" for m in done)
                and was_live != self._stopped_here
            ):
                events.append(rx.toast.info(STOPPED_ELSEWHERE))
            if self.chat_cost != money(cost):
                self.chat_cost = money(cost)
            if done:
                ids = {m["id"] for m in done}
                # A regenerated message's new version joins the recent ones; the loaded one stays hidden.
                self.recent = [m for m in self.recent if m["id"] not in ids] + done
        return events

    @rx.var
    def is_streaming(self) -> bool:
        return self.live_id != ""
