"""Chat messages: markdown (never raw HTML), status, cost, inline errors with retry."""

import reflex as rx

from chat_app.services.views import MessageView
from chat_app.state.chat import ChatState


def _markdown(text) -> rx.Component:
    # use_raw=False: model output is shown as text, never interpreted as HTML.
    return rx.markdown(text, use_raw=False, class_name="message-markdown")


def _bubble(role, status, body: rx.Component, footer: rx.Component, testid_id) -> rx.Component:
    return rx.box(
        body,
        footer,
        class_name=rx.cond(role == "user", "message message-user", "message message-assistant"),
        custom_attrs={"data-testid": "message", "data-role": role, "data-status": status,
                      "data-message-id": testid_id},
    )


def history_message(message: MessageView) -> rx.Component:
    is_error = message["status"] == "error"
    is_last = message["id"] == ChatState.last_message_id
    footer = rx.hstack(
        rx.cond(is_error, rx.text(message["error"], color_scheme="red", size="2",
                                  custom_attrs={"data-testid": "message-error"})),
        rx.cond(message["status"] == "stopped", rx.badge("stopped", color_scheme="gray")),
        rx.cond(
            (message["role"] == "assistant") & is_last & ~ChatState.is_streaming & ChatState.can_post,
            rx.button(
                rx.cond(is_error, "Retry", "Regenerate"), size="1", variant="soft",
                on_click=ChatState.regenerate,
                custom_attrs={"data-testid": rx.cond(is_error, "retry-button", "regenerate-button")},
            ),
        ),
        rx.cond(
            message["output_tokens"] > 0,
            rx.text(message["input_tokens"].to_string() + " in · " + message["output_tokens"].to_string() + " out",
                    size="1", color_scheme="gray"),
        ),
        spacing="2", align="center", wrap="wrap",
    )
    footer = rx.hstack(
        footer,
        rx.cond(message["cost_label"] != "",
                rx.text(message["cost_label"], size="1", color_scheme="gray",
                        custom_attrs={"data-testid": "message-cost"})),
        spacing="2", align="center", wrap="wrap",
    )
    return _bubble(message["role"], message["status"], _markdown(message["content"]), footer, message["id"])


def loaded_message(message: MessageView) -> rx.Component:
    """A message of the history loaded with the page: hidden while a new version of it streams
    (its saved version then arrives among the recent messages)."""
    return rx.cond(message["id"] == ChatState.hidden_id, rx.fragment(), history_message(message))


def live_message() -> rx.Component:
    return _bubble(
        "assistant",
        "streaming",
        rx.cond(
            (ChatState.live_sealed == "") & (ChatState.live_tail == ""),
            rx.spinner(size="2"),
            _markdown(ChatState.live_sealed + ChatState.live_tail),
        ),
        rx.fragment(),
        ChatState.live_id,
    )


def message_list() -> rx.Component:
    return rx.vstack(
        rx.foreach(ChatState.messages, loaded_message),
        rx.foreach(ChatState.recent, history_message),
        rx.cond(ChatState.is_streaming, live_message()),
        spacing="3",
        width="100%",
        class_name="message-list",
    )
