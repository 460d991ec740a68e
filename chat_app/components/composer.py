"""The message composer and the model picker."""

import reflex as rx

from chat_app.components.controls import icon_action
from chat_app.components.picker import model_picker
from chat_app.components.theme import ACCENT_COLOR
from chat_app.components.uploads import named_file_input
from chat_app.services.views import FILE_PICKER_ACCEPT
from chat_app.state.chat import COMPOSER_ID, ChatState

UPLOAD_ID = "attach"


def attach_button() -> rx.Component:
    zone = rx.upload(
        rx.button(
            rx.cond(ChatState.uploading, rx.spinner(size="1"), rx.icon("paperclip", size=14)),
            rx.cond(ChatState.uploading, ChatState.upload_percent.to_string() + "%", "Attach"),
            type="button",
            variant="soft",
            disabled=(ChatState.attach_refusal != "") | ChatState.uploading | ~ChatState.is_hydrated,
            title=rx.cond(
                ChatState.attach_refusal != "", ChatState.attach_refusal, "Attach images or videos"
            ),
            custom_attrs={"data-testid": "attach-button"},
        ),
        id=UPLOAD_ID,
        accept=FILE_PICKER_ACCEPT,  # the server still judges every file by its content
        multiple=True,
        disabled=(ChatState.attach_refusal != "") | ChatState.uploading,
        on_drop=ChatState.attach_files(
            rx.upload_files_chunk(upload_id=UPLOAD_ID, on_upload_progress=ChatState.upload_progress)
        ),
        class_name="attach-zone",
        border="none",
        padding="0",
    )
    return named_file_input(zone, "file-input", "Attach images or videos")


def _attachment_chip(item) -> rx.Component:
    return rx.hstack(
        rx.cond(
            item["thumb_url"] != "",
            rx.image(src=item["thumb_url"], alt="", class_name="attachment-thumb"),
            rx.icon(rx.cond(item["kind"] == "video", "film", "image"), size=16),
        ),
        rx.text(item["name"], size="1", class_name="attachment-name"),
        icon_action(
            "x",
            "Remove attachment",
            "remove-attachment",
            icon_size=12,
            on_click=ChatState.remove_attachment(item["id"]),
        ),
        class_name="attachment",
        align="center",
        spacing="1",
        custom_attrs={"data-testid": "attachment", "data-kind": item["kind"]},
    )


def attachments() -> rx.Component:
    return rx.cond(
        ChatState.attachments.length() > 0,
        rx.hstack(
            rx.foreach(ChatState.attachments, _attachment_chip), wrap="wrap", spacing="2", width="100%"
        ),
    )


def _send_or_stop() -> rx.Component:
    """Send, which becomes Stop while a reply is written: one button, so one that has the focus
    keeps it (and the page is not made to work out where the focus went, before the reply shows)."""
    streaming = ChatState.is_streaming
    return rx.button(
        rx.cond(streaming, rx.icon("square", size=14), rx.icon("send", size=14)),
        rx.cond(
            streaming,
            "Stop",
            rx.match(
                ChatState.model_type,
                ("image", "Generate image"),
                ("video", "Generate video"),
                "Send",
            ),
        ),
        type=rx.cond(streaming, "button", "submit"),
        on_click=rx.cond(streaming, ChatState.stop_reply, rx.noop()),
        # Disabled until the page is connected, so an early click is never lost.
        disabled=~streaming
        & (
            ~ChatState.is_hydrated
            | ChatState.uploading
            | ((ChatState.attach_refusal != "") & (ChatState.attachments.length() > 0))
        ),
        color_scheme=rx.cond(streaming, "red", ACCENT_COLOR),
        high_contrast=~streaming,  # white on the accent falls short of 4.5:1 in the dark theme
        custom_attrs={"data-testid": rx.cond(streaming, "stop-button", "send-button")},
    )


def composer() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.cond(
                ChatState.notice != "",
                rx.text(
                    ChatState.notice,
                    color_scheme="red",
                    size="2",
                    custom_attrs={"data-testid": "composer-error"},
                ),
            ),
            rx.cond(
                (ChatState.attach_refusal != "") & (ChatState.attachments.length() > 0),
                rx.text(
                    ChatState.attach_refusal,
                    color_scheme="amber",
                    size="2",
                    custom_attrs={"data-testid": "attach-refusal"},
                ),
            ),
            attachments(),
            rx.el.textarea(
                id=COMPOSER_ID,
                name="content",
                placeholder=rx.cond(
                    ChatState.model_type == "image",
                    "Describe the image to generate…",
                    rx.cond(
                        ChatState.model_type == "video",
                        "Describe the video to generate…",
                        "Message… (Enter to send, Shift+Enter for a new line)",
                    ),
                ),
                enter_key_submit=True,
                rows=2,
                class_name="composer-input",
                custom_attrs={"data-testid": "composer-input", "data-model-type": ChatState.model_type},
            ),
            rx.hstack(
                attach_button(),
                # Only the owner changes a chat's model; an editor sees which one answers.
                rx.cond(
                    ~ChatState.can_set_model,
                    rx.badge(
                        ChatState.model_name,
                        color_scheme="gray",
                        size="2",
                        custom_attrs={"data-testid": "chat-model"},
                    ),
                    model_picker(),
                ),
                rx.spacer(),
                _send_or_stop(),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            width="100%",
        ),
        on_submit=ChatState.send_message,
        reset_on_submit=False,
        class_name="composer",
    )
