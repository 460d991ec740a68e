"""Chat messages: markdown (never raw HTML), status, cost, inline errors with retry."""

from typing import Any, Literal, NamedTuple, cast

import reflex as rx

from chat_app.components.controls import icon_action
from chat_app.services.views import MediaView, MessageView
from chat_app.state.chat import EARLIER, ChatState
from chat_app.state.client_states import held_now
from chat_app.state.live_reply import KEPT_TEXTS, LIVE_RESYNC_ID, LIVE_TEXT
from chat_app.state.summary import SummaryState

# What react-markdown hands the `img` of the component map, read in the browser.
_IMAGE_SRC = rx.Var('(props.src ?? "")').to(str)
_IMAGE_ALT = rx.Var('(props.alt ?? "")').to(str)
OWN_IMAGES = "/api/media/"  # the access-checked file route


def _image_or_its_text(*_children) -> rx.Component:
    """An image in a message is shown only from our own file route; any other shows its text.

    A remote image is fetched by everyone who opens the chat: its server learns who reads a shared
    chat, and a reply steered into writing `![](https://elsewhere/?q=<the chat>)` would carry the
    chat away in the address. (The page's Content-Security-Policy refuses them too.)
    """
    return rx.el.span(
        rx.cond(
            _IMAGE_SRC.startswith(OWN_IMAGES),
            rx.el.img(src=_IMAGE_SRC, alt=_IMAGE_ALT, loading="lazy", class_name="markdown-image"),
            rx.el.span(
                _IMAGE_ALT,
                title="Images from other sites are not shown.",
                class_name="markdown-image-text",
                custom_attrs={"data-testid": "image-not-shown"},
            ),
        ),
    )


_NO_LANGUAGE = rx.Var('""').to(str)  # what the renderer passes when a fence names none


def _code_block(code: rx.Var[str], language: rx.Var[str] = _NO_LANGUAGE, **props) -> rx.Component:
    """A fenced code block with its language named and a button copying its text (both in the
    browser: `code` and `language` are the markdown renderer's own variables)."""
    return rx.box(
        rx.hstack(
            rx.text(
                rx.cond(language != "", language, "text"),
                size="1",
                class_name="code-language",
                custom_attrs={"data-testid": "code-language"},
            ),
            icon_action(
                "copy",
                "Copy code",
                "copy-code",
                on_click=[rx.set_clipboard(code), rx.toast.success("Code copied.")],
            ),
            justify="between",
            align="center",
            class_name="code-header",
        ),
        rx.code_block(code, language=cast(Any, language), wrap_long_lines=True, margin="0", **props),
        class_name="code-frame",
        custom_attrs={"data-testid": "code-block"},
    )


def _markdown(text) -> rx.Component:
    # use_raw=False: model output is shown as text, never interpreted as HTML.
    return rx.markdown(
        text,
        use_raw=False,
        class_name="message-markdown",
        component_map={"img": _image_or_its_text, "pre": _code_block},
    )


def media_preview(item: MediaView) -> rx.Component:
    """An image (its thumbnail, opening the full file) or a playable video, from the checked file route."""
    return rx.cond(
        item["kind"] == "video",
        rx.box(
            rx.el.video(
                src=item["url"],
                poster=item["thumb_url"],
                controls=True,
                preload="metadata",
                playsinline=True,
                class_name="media-video",
                aria_label=rx.cond(item["name"] != "", item["name"], "Video"),
                custom_attrs={
                    "data-testid": "media-preview",
                    "data-kind": "video",
                    "data-media-id": item["id"],
                },
            ),
            # A click on a video plays it; this opens it large, among the other pictures and videos.
            icon_action(
                "maximize-2", "Open in the viewer", "media-expand", variant="soft", class_name="media-expand"
            ),
            class_name="media-video-frame",
        ),
        rx.el.a(
            rx.el.img(
                src=rx.cond(item["thumb_url"] != "", item["thumb_url"], item["url"]),
                alt=rx.cond(item["name"] != "", item["name"], "Image"),
                loading="lazy",
                width=item["width"],
                height=item["height"],
                class_name="media-image",
            ),
            href=item["url"],
            target="_blank",
            rel="noopener",
            reload_document=True,
            custom_attrs={"data-testid": "media-preview", "data-kind": "image", "data-media-id": item["id"]},
        ),
    )


def _media(message: MessageView) -> rx.Component:
    return rx.cond(
        message["media"],  # a list is true when it is not empty
        rx.box(rx.foreach(message["media"], media_preview), class_name="media-grid"),
    )


def _bubble(role, status, body: rx.Component, footer: rx.Component, testid_id, media=None) -> rx.Component:
    return rx.box(
        media if media is not None else rx.fragment(),
        body,
        footer,
        class_name=rx.cond(role == "user", "message message-user", "message message-assistant"),
        custom_attrs={
            "data-testid": "message",
            "data-role": role,
            "data-status": status,
            "data-message-id": testid_id,
        },
    )


COLLAPSE_OVER = 2_000  # characters of a person's message shown in full without asking


@rx.memo
def streamed_text(message_id: rx.Var[str]) -> rx.Component:
    """The text of a reply that ended as this page streamed it: its saved version comes without
    it, and the page kept it (LiveTextSync.keep); until then it is still the live text.
    Only such replies render this, so only they follow the live text: the rest of the
    conversation is not rendered again for every piece of a reply."""
    kept = KEPT_TEXTS.value.to(dict)[message_id].to(str)
    live = rx.cond(message_id == ChatState.kept_id, LIVE_TEXT.value.to(str), "")
    return _markdown(rx.cond(kept, kept, live))


def _text_of(message: MessageView) -> rx.Component:
    content = cast(rx.vars.StringVar, message["content"])
    return rx.cond(content != "", _markdown(content), streamed_text(message_id=message["id"]))


def _markdown_of(message: MessageView) -> rx.Var:
    """The message's text as Markdown, read when asked (for copying): a reply kept by the page is
    read from it then, so the conversation does not follow the kept texts for it."""
    content = cast(rx.vars.StringVar, message["content"])
    message_id = cast(rx.Var, message["id"])
    texts = held_now(KEPT_TEXTS)
    kept = rx.Var(
        f"({texts._js_expr}?.[{message_id._js_expr}] ?? '')",
        _var_data=rx.vars.VarData.merge(message_id._get_all_var_data(), texts._get_all_var_data()),
    ).to(str)
    return rx.cond(content != "", content, kept)


def _collapsed_when_long(message: MessageView) -> rx.Component:
    """A person's long message (a pasted file, a log) shows its start, with "Show more": a
    checkbox and CSS, so opening it costs no round trip and the keyboard reaches it."""
    body = _text_of(message)
    toggle_id = f"expand-{message['id']}"
    return rx.cond(
        (message["role"] == "user") & (cast(rx.vars.StringVar, message["content"]).length() > COLLAPSE_OVER),
        rx.box(
            rx.el.input(type="checkbox", id=toggle_id, class_name="expand-toggle"),
            rx.box(body, class_name="collapsible"),
            rx.el.label(
                rx.el.span("Show more", class_name="when-collapsed"),
                rx.el.span("Show less", class_name="when-expanded"),
                html_for=toggle_id,
                class_name="expand-label",
                custom_attrs={"data-testid": "show-more"},
            ),
        ),
        body,
    )


def _footnote(text, testid: str, color: Literal["gray", "amber"]) -> rx.Component:
    """A small line under a reply, shown only when it says something."""
    return rx.cond(
        text != "", rx.text(text, size="1", color_scheme=color, custom_attrs={"data-testid": testid})
    )


def _summary_button(message: MessageView) -> rx.Component:
    """A reply sent a summary of what no longer fit: what the model was told, read on demand."""
    return rx.cond(
        message["summary_id"] != "",
        rx.button(
            "Show the summary",
            size="1",
            variant="ghost",
            color_scheme="amber",
            type="button",
            on_click=SummaryState.show_summary(message["id"]),
            custom_attrs={"data-testid": "show-summary"},
        ),
    )


class Page(NamedTuple):
    """What the page says about every message it shows. A message is drawn from these (given
    to it), not from the chat's state: so a change of that state (a message sent, a reply
    starting) draws again only the messages whose own values changed, not the whole history.
    (While a reply is written, the list's `data-streaming` hides edits and version switches by
    CSS, for the same reason; the server refuses both meanwhile anyway.)"""

    can_post: rx.Var[bool]
    can_export: rx.Var[bool]  # a member: a link to a message opens the chat for them


def _versions(message: MessageView) -> rx.Component:
    """ "‹ 2 / 3 ›" under a message with other versions (edits, regenerated replies)."""
    return rx.cond(
        message["branches"] > 1,
        rx.hstack(
            icon_action(
                "chevron-left",
                "Previous version",
                "branch-prev",
                disabled=message["branch"] <= 1,
                on_click=ChatState.switch_branch(message["id"], -1),
            ),
            rx.text(
                message["branch"],
                " / ",
                message["branches"],
                size="1",
                color_scheme="gray",
                custom_attrs={"data-testid": "branch-label"},
            ),
            icon_action(
                "chevron-right",
                "Next version",
                "branch-next",
                disabled=message["branch"] >= message["branches"],
                on_click=ChatState.switch_branch(message["id"], 1),
            ),
            spacing="1",
            align="center",
            custom_attrs={"data-testid": "branch-switcher"},
        ),
    )


def _when(message: MessageView) -> rx.Var:
    """When the message was written, in the reader's own time zone and way of writing dates."""
    iso = cast(rx.Var, message["created_at"])
    return rx.Var(f"(new Date({iso._js_expr})).toLocaleString()", _var_data=iso._get_all_var_data()).to(str)


def _link_to(message: MessageView) -> rx.Var:
    """The message's own address: its chat (the page's own address), opened on its branch,
    scrolled to it."""
    message_id = cast(rx.Var, message["id"])
    return rx.Var(
        f'window.location.origin + window.location.pathname + "?at=" + {message_id._js_expr}'
        f' + "#message-" + {message_id._js_expr}',
        _var_data=message_id._get_all_var_data(),
    ).to(str)


def _actions(message: MessageView, page: Page) -> rx.Component:
    """Shown on hover (and always on touch screens): copy as Markdown, a link to the message, its time."""
    return rx.hstack(
        icon_action(
            "copy",
            "Copy as Markdown",
            "copy-message",
            icon_size=12,
            on_click=[rx.set_clipboard(_markdown_of(message)), rx.toast.success("Message copied.")],
        ),
        rx.cond(
            page.can_export,  # members: the address opens the chat for them (readers by link have theirs)
            icon_action(
                "link",
                "Copy a link to this message",
                "link-message",
                icon_size=12,
                on_click=[
                    rx.set_clipboard(_link_to(message)),
                    rx.toast.success("Link to the message copied."),
                ],
            ),
        ),
        rx.text(_when(message), size="1", color_scheme="gray", custom_attrs={"data-testid": "message-time"}),
        spacing="1",
        align="center",
        class_name="message-actions",
    )


def _edit_button(message: MessageView, page: Page) -> rx.Component:
    return rx.cond(
        (message["role"] == "user") & page.can_post,
        rx.button(
            rx.icon("pencil", size=12),
            "Edit",
            size="1",
            variant="ghost",
            type="button",
            on_click=ChatState.start_edit(message["id"]),
            custom_attrs={"data-testid": "edit-message"},
        ),
    )


def _edit_form(message: MessageView) -> rx.Component:
    """The message's text to change; sending it writes a new version (the old one stays)."""
    return rx.form(
        rx.text_area(
            name="content",
            default_value=message["content"],
            auto_focus=True,
            rows="4",
            width="100%",
            aria_label="Edit your message",
            custom_attrs={"data-testid": "edit-input"},
        ),
        rx.hstack(
            rx.button(
                "Cancel",
                size="1",
                variant="soft",
                type="button",
                on_click=ChatState.cancel_edit,
                custom_attrs={"data-testid": "edit-cancel"},
            ),
            rx.button("Send", size="1", type="submit", custom_attrs={"data-testid": "edit-save"}),
            spacing="2",
            justify="end",
            width="100%",
        ),
        on_submit=ChatState.save_edit,
        reset_on_submit=False,
        width="100%",
        custom_attrs={"data-testid": "edit-form"},
    )


@rx.memo
def message_item(
    message: rx.Var[MessageView],
    regenerable: rx.Var[bool],
    editing: rx.Var[bool],
    can_post: rx.Var[bool],
    can_export: rx.Var[bool],
) -> rx.Component:
    """A saved message, drawn again only when one of these changes (React's memo)."""
    shown = cast(MessageView, message.to(MessageView))
    return _saved_message(shown, regenerable, editing, Page(can_post, can_export))


def _saved_message(
    message: MessageView, regenerable: rx.Var[bool], editing: rx.Var[bool], page: Page
) -> rx.Component:
    """`regenerable`: the chat's last reply, no other being written, for someone who may post."""
    is_error = message["status"] == "error"
    footer = rx.hstack(
        _versions(message),
        _edit_button(message, page),
        rx.cond(
            message["model_name"] != "",
            rx.text(
                message["model_name"],
                size="1",
                weight="medium",
                custom_attrs={"data-testid": "message-model"},
            ),
        ),
        rx.cond(
            is_error,
            rx.text(
                message["error"], color_scheme="red", size="2", custom_attrs={"data-testid": "message-error"}
            ),
        ),
        rx.cond(message["status"] == "stopped", rx.badge("stopped", color_scheme="gray")),
        rx.cond(
            (message["role"] == "assistant") & regenerable,
            rx.button(
                rx.cond(is_error, "Retry", "Regenerate"),
                size="1",
                variant="soft",
                on_click=ChatState.regenerate,
                custom_attrs={"data-testid": rx.cond(is_error, "retry-button", "regenerate-button")},
            ),
        ),
        rx.cond(
            message["output_tokens"] > 0,
            rx.text(
                message["input_tokens"],
                " in · ",
                message["output_tokens"],
                " out",
                size="1",
                color_scheme="gray",
            ),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
    )
    footer = rx.hstack(
        footer,
        _footnote(message["cost_label"], "message-cost", "gray"),
        _footnote(message["context_note"], "context-note", "amber"),
        _summary_button(message),
        _actions(message, page),
        spacing="2",
        align="center",
        wrap="wrap",
    )
    return _bubble(
        message["role"],
        message["status"],
        rx.cond(editing, _edit_form(message), _collapsed_when_long(message)),
        footer,
        message["id"],
        _media(message),
    )


def history_message(message: MessageView) -> rx.Component:
    return message_item(
        # Keyed by id: a page of older messages put on top adds elements above, and the ones
        # shown stay the same elements (where the reader's place and a found message are kept).
        key=message["id"],
        message=message,
        regenerable=(message["id"] == ChatState.last_message_id)
        & ~ChatState.is_streaming
        & ChatState.can_post,
        editing=message["id"] == ChatState.editing_id,
        can_post=ChatState.can_post,
        can_export=ChatState.can_export,
    )


def loaded_message(message: MessageView) -> rx.Component:
    """A message of the history loaded with the page: hidden while a new version of it streams
    (its saved version then arrives among the recent messages)."""
    return rx.cond(message["id"] == ChatState.hidden_id, rx.fragment(), history_message(message))


def generation_progress() -> rx.Component:
    """Status, elapsed time and (when the model's logs give one) a percentage, with cancel."""
    known = ChatState.live_percent >= 0
    return rx.vstack(
        rx.hstack(
            rx.spinner(size="2"),
            rx.text(
                rx.match(
                    ChatState.live_status,
                    ("starting", "Starting…"),
                    ("processing", "Generating…"),
                    ("downloading", "Saving the result…"),
                    "Waiting…",
                ),
                size="2",
                custom_attrs={"data-testid": "generation-status"},
            ),
            rx.cond(
                known,
                rx.text(
                    ChatState.live_percent.to_string() + "%",
                    size="2",
                    custom_attrs={"data-testid": "generation-percent"},
                ),
            ),
            rx.text(
                ChatState.live_elapsed,
                size="1",
                color_scheme="gray",
                custom_attrs={"data-testid": "generation-elapsed"},
            ),
            rx.button(
                rx.icon("x", size=12),
                "Cancel",
                size="1",
                variant="soft",
                color_scheme="red",
                type="button",
                on_click=ChatState.stop_reply,
                custom_attrs={"data-testid": "cancel-generation"},
            ),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(known, rx.progress(value=ChatState.live_percent, max=100, width="100%")),
        width="100%",
        spacing="2",
        custom_attrs={
            "data-testid": "generation-progress",
            "data-status": ChatState.live_status,
            "data-kind": ChatState.live_kind,
        },
    )


def live_message() -> rx.Component:
    return _bubble(
        "assistant",
        "streaming",
        rx.cond(
            ChatState.live_kind != "text",
            generation_progress(),
            rx.cond(
                LIVE_TEXT.value.to(str) == "",
                rx.spinner(size="2"),
                _markdown(LIVE_TEXT.value.to(str)),
            ),
        ),
        rx.fragment(),
        ChatState.live_id,
    )


def live_text_resync() -> rx.Component:
    """Clicked by assets/live.js when the live text it holds missed an update: the state sends
    the whole text again."""
    return rx.el.button(
        id=LIVE_RESYNC_ID,
        type="button",
        hidden=True,
        tab_index=-1,
        aria_hidden="true",
        on_click=ChatState.resync_live_text,
    )


def load_earlier_button() -> rx.Component:
    """Older messages come a page at a time: when this scrolls into view (follow.js), or on a click."""
    return rx.button(
        rx.icon("chevrons-up", size=14),
        "Show earlier messages",
        variant="soft",
        size="1",
        on_click=ChatState.load_earlier,
        class_name="load-earlier",
        type="button",
        custom_attrs={"data-testid": "load-earlier"},
    )


def message_list() -> rx.Component:
    return rx.vstack(
        rx.cond(ChatState.has_earlier, rx.center(load_earlier_button(), width="100%")),
        rx.foreach(EARLIER.value.to(list[MessageView]), history_message),
        rx.foreach(ChatState.messages, loaded_message),
        rx.foreach(ChatState.recent, history_message),
        rx.cond(ChatState.is_streaming, live_message()),
        live_text_resync(),
        spacing="3",
        width="100%",
        class_name="message-list",
        custom_attrs={"data-streaming": ChatState.is_streaming.to_string()},
    )
