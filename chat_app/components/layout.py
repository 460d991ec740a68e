"""The app shell: sidebar beside the conversation; the sidebar folds away on a phone."""

import reflex as rx

from chat_app.components.composer import composer
from chat_app.components.controls import icon_action
from chat_app.components.messages import message_list
from chat_app.components.palette import command_palette, palette_button
from chat_app.components.share import share_button
from chat_app.components.shortcuts import shortcuts_dialog
from chat_app.components.sidebar import sidebar
from chat_app.components.summary import summary_dialog
from chat_app.state.chat import ChatState
from chat_app.state.sidebar import SidebarState


def _top_bar() -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("menu", size=18),
            variant="ghost",
            on_click=SidebarState.toggle_sidebar,
            class_name="menu-button",
            aria_label="Show chats",
        ),
        rx.heading(
            rx.cond(
                ChatState.no_access,
                "No access",
                rx.cond(ChatState.chat_title != "", ChatState.chat_title, "New chat"),
            ),
            size="4",
            trim="end",
            custom_attrs={"data-testid": "chat-title"},
        ),
        rx.spacer(),
        shortcuts_dialog(),
        rx.cond(ChatState.user_email != "", rx.fragment(palette_button(), command_palette())),
        rx.cond(ChatState.can_export & (ChatState.chat_id != ""), _export_menu()),
        rx.cond(ChatState.can_share & (ChatState.chat_id != ""), share_button()),
        rx.cond(
            ~ChatState.can_share & (ChatState.chat_id != ""),
            rx.badge(
                rx.cond(ChatState.can_post, "Shared with you · can edit", "Read only"),
                color_scheme="gray",
                custom_attrs={"data-testid": "role-badge"},
            ),
        ),
        rx.cond(
            ChatState.chat_cost != "",
            rx.text(
                "Chat cost ",
                ChatState.chat_cost,
                size="1",
                color_scheme="gray",
                custom_attrs={"data-testid": "chat-cost"},
            ),
        ),
        align="center",
        spacing="2",
        class_name="top-bar",
    )


_EXPORTS = (
    ("md", "Markdown", "To read, or paste elsewhere"),
    ("json", "JSON", "Every message and its details"),
    ("zip", "Zip with files", "JSON and Markdown with the chat's pictures and videos"),
)


def _export_menu() -> rx.Component:
    """Downloads of the open chat (the API's export, with the page's own cookie)."""
    return rx.menu.root(
        rx.menu.trigger(icon_action("download", "Export this chat", "export-menu", icon_size=16)),
        rx.menu.content(
            *(
                rx.menu.item(
                    rx.vstack(
                        rx.text(label, size="2"),
                        rx.text(hint, size="1", color_scheme="gray"),
                        spacing="0",
                    ),
                    # In the browser: the file comes with the page's cookie, named by the server.
                    on_select=rx.download(url="/api/chats/" + ChatState.chat_id + "/export?format=" + format),
                    height="auto",
                    custom_attrs={"data-testid": f"export-{format}"},
                )
                for format, label, hint in _EXPORTS
            ),
        ),
    )


def _not_found() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Chat not found", size="6"),
            rx.text("This chat does not exist, or you do not have access to it."),
            rx.link("Back to your chats", href="/"),
            align="center",
        ),
        custom_attrs={"data-testid": "chat-not-found"},
        flex="1",
        width="100%",
    )


def _no_access() -> rx.Component:
    """Said to whoever a link, an invitation or a removed share does not let in; nothing of the chat."""
    return rx.center(
        rx.vstack(
            rx.icon("lock", size=28),
            rx.heading("You don't have access", size="6"),
            rx.text(ChatState.no_access_message, align="center"),
            rx.cond(
                ChatState.user_email != "",
                rx.link("Back to your chats", href="/"),
                rx.link("Sign in", href="/login"),
            ),
            align="center",
            max_width="28em",
            padding="16px",
        ),
        custom_attrs={"data-testid": "no-access"},
        flex="1",
        width="100%",
    )


def _read_only_bar() -> rx.Component:
    """In place of the composer for people who may read but not write."""
    return rx.hstack(
        rx.text(
            rx.cond(ChatState.user_email != "", "You can read this chat.", "You are reading a public chat."),
            size="2",
            color_scheme="gray",
        ),
        rx.spacer(),
        rx.button(
            rx.icon("copy-plus", size=14),
            rx.cond(ChatState.user_email != "", "Continue in my account", "Sign in to continue it"),
            size="2",
            on_click=ChatState.continue_in_my_account,
            custom_attrs={"data-testid": "continue-in-my-account"},
        ),
        class_name="read-only-bar",
        align="center",
        width="100%",
        wrap="wrap",
        custom_attrs={"data-testid": "read-only-bar"},
    )


def _editor_note() -> rx.Component:
    return rx.text(
        "You can write in this shared chat. Replies use your own API key for the model's provider "
        "when you have one in Settings; otherwise they are billed to the chat's owner.",
        size="1",
        color_scheme="gray",
        class_name="editor-note",
        custom_attrs={"data-testid": "billing-note"},
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("What can I help with?", size="7"),
            rx.cond(
                ChatState.has_usable_model,
                rx.text("Pick a model below and send a message to start a chat.", color_scheme="gray"),
                rx.callout(
                    "No model can answer yet: no provider is set up. Add your own provider key on the "
                    "settings page, or ask whoever runs this server to configure one.",
                    icon="triangle_alert",
                    color_scheme="amber",
                    custom_attrs={"data-testid": "no-models"},
                ),
            ),
            align="center",
        ),
        flex="1",
        custom_attrs={"data-testid": "empty-chat"},
    )


def _loading() -> rx.Component:
    """Shapes of messages while the page connects and reads the chat, instead of blank space."""
    return rx.vstack(
        *[
            rx.skeleton(rx.box(height=height, width=width), loading=True, align_self=side)
            for height, width, side in (
                ("48px", "55%", "end"),
                ("96px", "100%", "start"),
                ("48px", "40%", "end"),
            )
        ],
        spacing="4",
        width="100%",
        padding="16px",
        custom_attrs={"data-testid": "loading-messages", "aria-busy": "true", "aria-label": "Loading"},
    )


def chat_shell() -> rx.Component:
    return rx.box(
        sidebar(),
        rx.cond(
            SidebarState.sidebar_open, rx.box(class_name="backdrop", on_click=SidebarState.toggle_sidebar)
        ),
        summary_dialog(),
        rx.vstack(
            _top_bar(),
            rx.cond(
                ChatState.no_access,
                _no_access(),
                rx.cond(
                    ChatState.not_found,
                    _not_found(),
                    rx.fragment(
                        rx.box(
                            rx.cond(
                                ~ChatState.is_hydrated,
                                _loading(),
                                rx.cond(ChatState.is_empty, _empty(), message_list()),
                            ),
                            class_name="conversation",
                        ),
                        rx.cond(ChatState.can_post & ~ChatState.can_set_model, _editor_note()),
                        rx.cond(ChatState.can_post, composer(), _read_only_bar()),
                    ),
                ),
            ),
            class_name="main-pane",
            spacing="0",
        ),
        class_name="app-shell",
    )
