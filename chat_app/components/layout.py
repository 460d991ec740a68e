"""The app shell: sidebar beside the conversation; the sidebar folds away on a phone."""

import reflex as rx

from chat_app.components.composer import composer
from chat_app.components.messages import message_list
from chat_app.components.sidebar import sidebar
from chat_app.state.chat import ChatState


def _top_bar() -> rx.Component:
    return rx.hstack(
        rx.icon_button(rx.icon("menu", size=18), variant="ghost", on_click=ChatState.toggle_sidebar,
                       class_name="menu-button", aria_label="Show chats"),
        rx.heading(rx.cond(ChatState.chat_title != "", ChatState.chat_title, "New chat"), size="4",
                   trim="end", custom_attrs={"data-testid": "chat-title"}),
        rx.spacer(),
        rx.cond(ChatState.chat_cost != "",
                rx.text("Chat cost ", ChatState.chat_cost, size="1", color_scheme="gray",
                        custom_attrs={"data-testid": "chat-cost"})),
        align="center", spacing="2", class_name="top-bar",
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
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("What can I help with?", size="7"),
            rx.text("Pick a model below and send a message to start a chat.", color_scheme="gray"),
            align="center",
        ),
        flex="1",
    )


def chat_shell() -> rx.Component:
    return rx.box(
        sidebar(),
        rx.cond(ChatState.sidebar_open, rx.box(class_name="backdrop", on_click=ChatState.toggle_sidebar)),
        rx.vstack(
            _top_bar(),
            rx.cond(
                ChatState.not_found,
                _not_found(),
                rx.fragment(
                    rx.box(
                        rx.cond(ChatState.is_empty, _empty(),
                                message_list()),
                        class_name="conversation",
                    ),
                    composer(),
                ),
            ),
            class_name="main-pane",
            spacing="0",
        ),
        class_name="app-shell",
    )
