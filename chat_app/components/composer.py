"""The message composer and the model selection."""

import reflex as rx

from chat_app.components.picker import model_picker
from chat_app.state.chat import COMPOSER_ID, ChatState


def model_select() -> rx.Component:
    return rx.el.select(
        rx.foreach(
            ChatState.models,
            lambda m: rx.el.option(
                m["label"], value=m["id"], disabled=m["available"] == "false", title=m["reason"],
            ),
        ),
        value=ChatState.model_id,
        on_change=ChatState.set_model,
        aria_label="Model",
        class_name="model-select",
        custom_attrs={"data-testid": "model-select"},
    )


def composer() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.cond(ChatState.notice != "", rx.text(ChatState.notice, color_scheme="red", size="2",
                                                    custom_attrs={"data-testid": "composer-error"})),
            rx.el.textarea(
                id=COMPOSER_ID,
                name="content",
                placeholder=rx.match(
                    ChatState.model_type,
                    ("image", "Describe the image to generate…"),
                    ("video", "Describe the video to generate…"),
                    "Message… (Enter to send, Shift+Enter for a new line)",
                ),
                enter_key_submit=True,
                rows=2,
                class_name="composer-input",
                custom_attrs={"data-testid": "composer-input", "data-model-type": ChatState.model_type},
            ),
            rx.hstack(
                model_picker(),
                model_select(),
                rx.spacer(),
                rx.cond(
                    ChatState.is_streaming,
                    rx.button(rx.icon("square", size=14), "Stop", type="button", color_scheme="red",
                              on_click=ChatState.stop_reply, custom_attrs={"data-testid": "stop-button"}),
                    # Disabled until the page is connected, so an early click is never lost.
                    rx.button(rx.icon("send", size=14),
                              rx.match(ChatState.model_type, ("image", "Generate image"),
                                       ("video", "Generate video"), "Send"),
                              type="submit",
                              disabled=~ChatState.is_hydrated,
                              custom_attrs={"data-testid": "send-button"}),
                ),
                width="100%", align="center", wrap="wrap",
            ),
            width="100%",
        ),
        on_submit=ChatState.send_message,
        reset_on_submit=False,
        class_name="composer",
    )
