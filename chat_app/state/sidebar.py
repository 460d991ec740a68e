"""The sidebar: the person's chats and those shared with them, rename and delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypedDict

import reflex as rx
from sqlmodel import Session

from chat_app.models import User, utcnow
from chat_app.services import access, chats, search, sharing
from chat_app.services.errors import Invalid
from chat_app.services.views import ChatView, chat_view
from chat_app.state import chat_groups
from chat_app.state.auth import AuthState, Refused
from chat_app.state.chat_groups import ChatGroup, group_chats

CHATS_PAGE = 50  # chats the sidebar lists at first; more come as it is scrolled down


class SidebarLists(NamedTuple):
    own: list[ChatView]  # the first page of the person's chats that are not pinned
    shared: list[ChatView]  # chats others shared with the person
    is_admin: bool = False  # the sidebar links to the admin page
    pinned: list[ChatView] = []
    more: str = ""  # where the next page of own chats starts ("" when there is none)


def sidebar_lists(user: User | None, session: Session) -> SidebarLists:
    """The person's pinned chats, a first page of their other chats, and the chats others shared
    with them (none for a visitor)."""
    if user is None:
        return SidebarLists([], [])
    own, more = chats.recent_chats(user, session=session, limit=CHATS_PAGE)
    return SidebarLists(
        [chat_view(c) for c in own],
        [chat_view(c) for c in sharing.shared_with(user, session=session)],
        access.is_admin(user),
        [chat_view(c) for c in chats.pinned_chats(user, session=session)],
        more,
    )


class SearchRow(TypedDict):
    """One search result as the sidebar shows it."""

    key: str
    href: str
    chat_title: str
    label: str  # what matched: the chat's title, the person's words or a reply
    parts: list[search.SnippetPart]


def search_row(result: search.SearchResult) -> SearchRow:
    message_id = result["message_id"]
    label = "Title" if message_id is None else ("You" if result["role"] == "user" else "Reply")
    # `at` opens the message's branch, as far up as the message; the fragment brings it into view.
    href = "/chat/" + result["chat_id"] + (f"?at={message_id}#message-{message_id}" if message_id else "")
    return SearchRow(
        key=message_id or result["chat_id"],
        href=href,
        chat_title=result["chat_title"],
        label=label,
        parts=result["snippet"],
    )


class SidebarState(AuthState):
    # Not pinned, newest first; the page is sent them by `chat_groups` alone.
    _chats: list[ChatView] = []
    pinned: rx.Field[list[ChatView]] = rx.field(default_factory=list)
    _more: str = ""  # where the next page of chats starts
    utc_offset: rx.Field[int] = rx.field(0)  # the reader's time zone, in minutes east of UTC
    # chats others shared with this person
    shared_chats: rx.Field[list[ChatView]] = rx.field(default_factory=list)
    sidebar_open: rx.Field[bool] = rx.field(False)  # on a phone-width screen
    rename_id: rx.Field[str] = rx.field("")
    rename_title: rx.Field[str] = rx.field("")
    delete_id: rx.Field[str] = rx.field("")
    is_admin: rx.Field[bool] = rx.field(False)
    search_query: rx.Field[str] = rx.field("")
    search_results: rx.Field[list[SearchRow]] = rx.field(default_factory=list)
    search_note: rx.Field[str] = rx.field("")  # no match, or why the words cannot be searched
    palette_open: rx.Field[bool] = rx.field(False)  # the command palette (Ctrl/Cmd+K)

    def show(self, lists: SidebarLists) -> None:
        """A page opened: its lists, read in the page's own transaction, and the drawer closed."""
        self._chats, self.shared_chats, self.is_admin, self.pinned, self._more = lists
        self.sidebar_open = False

    @rx.var
    def has_more(self) -> bool:
        return self._more != ""

    @rx.var
    def chat_groups(self) -> list[ChatGroup]:
        """The chats by when they were last active, in the reader's own days."""
        return group_chats(self._chats, now=utcnow(), utc_offset_minutes=self.utc_offset)

    @rx.event
    def set_utc_offset(self, minutes_west: int | str):
        """The browser's `getTimezoneOffset()` (minutes *west* of UTC), once a page is shown."""
        try:
            self.utc_offset = max(-14 * 60, min(14 * 60, -int(minutes_west)))
        except (TypeError, ValueError):
            self.utc_offset = 0

    @rx.event
    async def load_more_chats(self):
        """The next page of chats (the list was scrolled to its end)."""
        after = self._more
        if not after:
            return
        page = await self._act(
            lambda user, session: chats.recent_chats(user, session=session, limit=CHATS_PAGE, after=after)
        )
        if isinstance(page, Refused):
            return page.effect
        if self._more != after:
            return  # already shown
        rows, self._more = page
        shown = {c["id"] for c in self._chats}
        self._chats = self._chats + [chat_view(c) for c in rows if str(c.id) not in shown]

    @rx.event
    async def pin(self, chat_id: str, pinned: bool):
        done = await self._act(
            lambda user, session: chat_view(chats.pin_chat(user, chat_id, pinned, session=session))
        )
        if isinstance(done, Refused):
            return done.effect
        others = [c for c in self._chats if c["id"] != chat_id]
        if pinned:
            self.pinned = [done, *[c for c in self.pinned if c["id"] != chat_id]]
            self._chats = others
        else:
            self.pinned = [c for c in self.pinned if c["id"] != chat_id]
            self._chats = sorted([done, *others], key=lambda c: c["updated_at"], reverse=True)

    def put_on_top(self, chat_id: str, title: str | None) -> None:
        """A message was sent in `chat_id`: it moves to the top (of the pinned ones, when pinned),
        named by `title` when it has a new one."""
        if any(c["id"] == chat_id for c in self.pinned):
            if title:
                self.retitle(chat_id, title)
            return
        moved = chat_groups.put_on_top(
            self._chats, chat_id, title, now=utcnow(), utc_offset_minutes=self.utc_offset
        )
        if moved is not None:  # else the sidebar would look the same: it is not sent again
            self._chats = moved

    def retitle(self, chat_id: str, title: str) -> None:
        """`chat_id` has a new title (written from its first exchange); its place stays."""
        self._in_lists(chat_id, lambda chat: {**chat, "title": title})

    def _in_lists(self, chat_id: str, change: Callable[[ChatView], ChatView | None]) -> None:
        """`chat_id` as `change` makes it (None: gone), in whichever of the person's lists holds it."""

        def changed(chats: list[ChatView]) -> list[ChatView]:
            kept = [change(c) if c["id"] == chat_id else c for c in chats]
            return [c for c in kept if c is not None]

        # Each list assigned is sent to the page whole: only the one holding the chat is.
        if any(c["id"] == chat_id for c in self._chats):
            self._chats = changed(self._chats)
        if any(c["id"] == chat_id for c in self.pinned):
            self.pinned = changed(self.pinned)

    @rx.event
    async def search(self, query: str):
        """The search box changed: its results replace the lists while it holds something."""
        self.search_query = query
        self.search_results, self.search_note = [], ""
        if not query.strip():
            return
        try:
            search.words_of(query)
        except Invalid as exc:
            self.search_note = str(exc)
            return
        found = await self._act(lambda user, session: search.search(user, query, session=session))
        if isinstance(found, Refused):
            return found.effect
        self.search_results = [search_row(r) for r in found]
        self.search_note = "" if found else "No chat or message has these words."

    def _end_search(self) -> None:
        self.search_query, self.search_results, self.search_note = "", [], ""
        self.palette_open = False

    @rx.event
    def clear_search(self):
        """A result was chosen (or the palette closed): the search ends, the palette with it."""
        self._end_search()

    @rx.event
    def open_palette(self):
        self._end_search()
        self.palette_open = True

    @rx.event
    def set_palette_open(self, is_open: bool):
        if not is_open:
            self._end_search()

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
        renamed = await self._act(
            lambda user, session: chat_view(chats.rename_chat(user, chat_id, title, session=session))
        )
        if isinstance(renamed, Refused):
            return renamed.effect
        self.rename_id = ""
        self._in_lists(chat_id, lambda _chat: renamed)
        # The open chat's header shows the title too. (Imported here: the chat page's state
        # imports this one.)
        from chat_app.state.chat import ChatState

        page = await self.get_state(ChatState)
        if page.chat_id == chat_id:
            page.chat_title = renamed["title"]

    @rx.event
    def ask_delete(self, chat_id: str):
        self.delete_id = chat_id

    @rx.event
    def cancel_delete(self):
        self.delete_id = ""

    @rx.event
    async def delete_chat(self):
        chat_id = self.delete_id
        done = await self._act(lambda user, session: chats.delete_chat(user, chat_id, session=session))
        if isinstance(done, Refused):
            return done.effect
        self.delete_id = ""
        self._in_lists(chat_id, lambda _chat: None)
        if self.router.url.path.rstrip("/") == f"/chat/{chat_id}":
            return rx.redirect("/")
