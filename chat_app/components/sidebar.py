"""The user's chats, newest first, with new chat, rename, delete and sign-out."""

import reflex as rx

from chat_app.components.controls import icon_action
from chat_app.components.search_results import search_results
from chat_app.components.theme import theme_menu
from chat_app.services.views import MAX_TITLE_LENGTH, ChatView
from chat_app.state.chat import ChatState
from chat_app.state.chat_groups import ChatGroup
from chat_app.state.sidebar import SidebarState


def _chat_item(chat: ChatView) -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.text(chat["title"], trim="end", size="2"),
            href="/chat/" + chat["id"],
            class_name=rx.cond(chat["id"] == ChatState.chat_id, "chat-link active", "chat-link"),
            custom_attrs={"data-testid": "chat-item", "data-chat-id": chat["id"]},
        ),
        icon_action(
            rx.cond(chat["pinned"], "pin-off", "pin"),
            rx.cond(chat["pinned"], "Unpin chat", "Pin chat to the top"),
            rx.cond(chat["pinned"], "unpin-chat", "pin-chat"),
            title=rx.cond(chat["pinned"], "Unpin", "Pin to the top"),
            on_click=SidebarState.pin(chat["id"], rx.cond(chat["pinned"], False, True)),
        ),
        icon_action(
            "pencil",
            "Rename chat",
            "rename-chat",
            on_click=SidebarState.ask_rename(chat["id"], chat["title"]),
        ),
        icon_action(
            "trash-2",
            "Delete chat",
            "delete-chat",
            color_scheme="red",
            on_click=SidebarState.ask_delete(chat["id"]),
        ),
        width="100%",
        align="center",
        spacing="1",
        class_name="chat-row",
    )


def _shared_item(chat: ChatView) -> rx.Component:
    return rx.link(
        rx.text(chat["title"], trim="end", size="2"),
        href="/chat/" + chat["id"],
        class_name=rx.cond(chat["id"] == ChatState.chat_id, "chat-link active", "chat-link"),
        custom_attrs={"data-testid": "shared-chat-item", "data-chat-id": chat["id"]},
    )


def _heading(label) -> rx.Component:
    return rx.text(label, size="1", color_scheme="gray", weight="bold", padding_top="8px")


def _group(group: ChatGroup) -> rx.Component:
    return rx.vstack(
        _heading(group["label"]),
        rx.foreach(group["chats"], _chat_item),
        spacing="1",
        width="100%",
        custom_attrs={"data-testid": "chat-group", "data-label": group["label"]},
    )


def _load_more() -> rx.Component:
    """Scrolled into view (assets/follow.js), or clicked: the next page of chats."""
    return rx.button(
        "More chats",
        size="1",
        variant="ghost",
        type="button",
        on_click=SidebarState.load_more_chats,
        custom_attrs={"data-testid": "load-more-chats"},
    )


def _chat_lists() -> rx.Component:
    return rx.vstack(
        rx.cond(
            SidebarState.pinned.length() > 0,
            rx.vstack(
                _heading("Pinned"),
                rx.foreach(SidebarState.pinned, _chat_item),
                spacing="1",
                width="100%",
                custom_attrs={"data-testid": "pinned-chats"},
            ),
        ),
        rx.foreach(SidebarState.chat_groups, _group),
        rx.cond(SidebarState.has_more, _load_more()),
        rx.cond(
            (ChatState.user_email != "")
            & (SidebarState.chat_groups.length() == 0)
            & (SidebarState.pinned.length() == 0)
            & (SidebarState.shared_chats.length() == 0),
            rx.text(
                "No chats yet. Write a message to start one; it will be listed here.",
                size="2",
                color_scheme="gray",
                custom_attrs={"data-testid": "no-chats"},
            ),
        ),
        rx.cond(
            SidebarState.shared_chats.length() > 0,
            rx.vstack(
                rx.text(
                    "Shared with you",
                    size="1",
                    color_scheme="gray",
                    weight="bold",
                    padding_top="12px",
                ),
                rx.foreach(SidebarState.shared_chats, _shared_item),
                spacing="1",
                width="100%",
            ),
        ),
        spacing="1",
        width="100%",
    )


def _search_box() -> rx.Component:
    return rx.input(
        rx.input.slot(rx.icon("search", size=14)),
        placeholder="Search chats",
        value=SidebarState.search_query,
        on_change=SidebarState.search.debounce(250),
        type="search",
        aria_label="Search chats",
        width="100%",
        size="2",
        custom_attrs={"data-testid": "search-input"},
    )


def _rename_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename chat"),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="title",
                        default_value=SidebarState.rename_title,
                        max_length=MAX_TITLE_LENGTH,
                        auto_focus=True,
                        custom_attrs={"data-testid": "rename-input"},
                        width="100%",
                    ),
                    rx.hstack(
                        rx.button(
                            "Cancel",
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            on_click=SidebarState.cancel_rename,
                        ),
                        rx.button("Save", type="submit", custom_attrs={"data-testid": "rename-save"}),
                        justify="end",
                        width="100%",
                    ),
                ),
                on_submit=SidebarState.rename_chat,
            ),
        ),
        open=SidebarState.rename_id != "",
        on_open_change=lambda _open: SidebarState.cancel_rename(),
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this chat?"),
            rx.alert_dialog.description("The chat and all its messages are deleted for good."),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Cancel", variant="soft", color_scheme="gray", on_click=SidebarState.cancel_delete
                    )
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete",
                        color_scheme="red",
                        on_click=SidebarState.delete_chat,
                        custom_attrs={"data-testid": "confirm-delete"},
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=SidebarState.delete_id != "",
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Chats", size="4"),
            rx.hstack(
                theme_menu(),
                rx.button(
                    rx.icon("plus", size=16),
                    "New chat",
                    size="2",
                    on_click=rx.redirect("/"),
                    custom_attrs={"data-testid": "new-chat"},
                ),
                spacing="2",
                align="center",
            ),
            justify="between",
            width="100%",
            align="center",
        ),
        rx.cond(ChatState.user_email != "", _search_box()),
        rx.scroll_area(
            rx.cond(SidebarState.search_query != "", search_results(), _chat_lists()),
            type="hover",
            scrollbars="vertical",
            flex="1",
        ),
        rx.cond(
            ChatState.user_email != "",
            rx.fragment(
                rx.link(
                    rx.hstack(
                        rx.icon("settings", size=14), rx.text("Settings & usage", size="2"), align="center"
                    ),
                    href="/settings",
                    custom_attrs={"data-testid": "settings-link"},
                ),
                rx.cond(
                    SidebarState.is_admin,
                    rx.link(
                        rx.hstack(
                            rx.icon("shield", size=14), rx.text("Administration", size="2"), align="center"
                        ),
                        href="/admin",
                        custom_attrs={"data-testid": "admin-link"},
                    ),
                ),
                rx.hstack(
                    rx.text(ChatState.user_email, size="1", color_scheme="gray", trim="end"),
                    rx.el.form(
                        rx.button(
                            "Sign out",
                            type="submit",
                            size="1",
                            variant="soft",
                            custom_attrs={"data-testid": "sign-out"},
                        ),
                        action="/api/auth/logout",
                        method="post",
                        on_submit=None,
                    ),
                    justify="between",
                    width="100%",
                    align="center",
                ),
            ),
            rx.link(
                rx.button("Sign in", size="2", width="100%"),
                href="/login",
                custom_attrs={"data-testid": "sidebar-sign-in"},
            ),
        ),
        _rename_dialog(),
        _delete_dialog(),
        class_name=rx.cond(SidebarState.sidebar_open, "sidebar open", "sidebar"),
        spacing="3",
        # The reader's time zone, for grouping chats by their own days.
        on_mount=rx.call_script("new Date().getTimezoneOffset()", callback=SidebarState.set_utc_offset),
    )
