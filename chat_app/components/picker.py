"""The model picker dialog: type tabs, search, sort, models grouped by provider with what each
can do and costs; unavailable models are greyed with their reason. Arrow keys move between models."""

import reflex as rx

from chat_app.state.chat import ChatState
from chat_app.state.picker import ModelGroup, PickerModel, PickerState

_TABS = [("all", "All"), ("text", "Text"), ("image", "Image"), ("video", "Video")]
_SORTS = [("provider", "Provider"), ("name", "Name"), ("price", "Price"), ("context", "Context")]


def _tab(kind: str, label: str) -> rx.Component:
    return rx.button(
        label,
        size="1",
        on_click=PickerState.set_type(kind),
        variant=rx.cond(PickerState.model_type == kind, "solid", "soft"),
        custom_attrs={"data-testid": f"model-type-{kind}", "aria-pressed": PickerState.model_type == kind},
    )


def _option(model: PickerModel) -> rx.Component:
    return rx.el.button(
        rx.hstack(
            rx.vstack(
                rx.text(model["name"], weight="medium", size="2"),
                rx.hstack(
                    rx.foreach(model["badges"], lambda b: rx.badge(b, size="1", variant="soft")),
                    spacing="1",
                    wrap="wrap",
                ),
                rx.cond(~model["available"], rx.text(model["reason"], size="1", color_scheme="red")),
                spacing="1",
                align="start",
            ),
            rx.spacer(),
            rx.vstack(
                rx.text(model["price"], size="1", color_scheme="gray"),
                rx.text(model["context"], size="1", color_scheme="gray"),
                spacing="0",
                align="end",
            ),
            width="100%",
            align="center",
        ),
        type="button",
        disabled=rx.cond(model["available"], False, True),
        on_click=PickerState.choose(model["id"]),
        class_name=rx.cond(model["id"] == ChatState.model_id, "model-option chosen", "model-option"),
        custom_attrs={
            "data-testid": "model-option",
            "data-model-id": model["id"],
            "data-type": model["type"],
            "data-available": rx.cond(model["available"], "true", "false"),
        },
    )


def _group(group: ModelGroup) -> rx.Component:
    return rx.vstack(
        rx.text(group["provider"], size="1", weight="bold", color_scheme="gray"),
        rx.foreach(group["models"], _option),
        spacing="1",
        width="100%",
    )


def model_picker() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("sparkles", size=14),
                ChatState.model_name,
                type="button",
                variant="soft",
                custom_attrs={"data-testid": "model-picker"},
            ),
        ),
        rx.dialog.content(
            rx.dialog.title("Choose a model"),
            rx.vstack(
                rx.hstack(*[_tab(kind, label) for kind, label in _TABS], spacing="2", wrap="wrap"),
                rx.hstack(
                    rx.input(
                        placeholder="Search models…",
                        value=PickerState.query,
                        on_change=PickerState.set_query.debounce(200),
                        auto_focus=True,
                        custom_attrs={"data-testid": "model-search"},
                        flex="1",
                    ),
                    rx.el.select(
                        *[rx.el.option(label, value=value) for value, label in _SORTS],
                        value=PickerState.sort,
                        on_change=PickerState.set_sort,
                        aria_label="Sort by",
                        class_name="model-select",
                        custom_attrs={"data-testid": "model-sort"},
                    ),
                    width="100%",
                ),
                rx.cond(PickerState.error != "", rx.text(PickerState.error, color_scheme="red", size="2")),
                rx.scroll_area(
                    rx.vstack(
                        rx.foreach(PickerState.groups, _group),
                        spacing="3",
                        width="100%",
                        class_name="model-list",
                    ),
                    type="auto",
                    scrollbars="vertical",
                    max_height="55vh",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="640px",
        ),
        open=PickerState.is_open,
        on_open_change=PickerState.set_open,
    )
