"""The command palette (Ctrl/Cmd+K, or the search button of the top bar): search every chat, or
start a new one, choose the model, open the settings; arrow keys move between the choices."""

import reflex as rx

from chat_app.components.search_results import search_results
from chat_app.state.picker import PickerState
from chat_app.state.sidebar import SidebarState


def _action(icon: str, label: str, name: str, then) -> rx.Component:
    return rx.button(
        rx.icon(icon, size=16),
        label,
        variant="ghost",
        color_scheme="gray",
        justify="start",
        width="100%",
        on_click=[SidebarState.clear_search, then],
        custom_attrs={"data-testid": "palette-action", "data-action": name, "data-palette-item": ""},
    )


def palette_button() -> rx.Component:
    return rx.button(
        rx.icon("search", size=14),
        rx.text("Search", class_name="hide-narrow"),
        rx.el.kbd("Ctrl K", class_name="hide-narrow shortcut"),
        size="1",
        variant="soft",
        color_scheme="gray",
        on_click=SidebarState.open_palette,
        aria_label="Search and commands",
        custom_attrs={"data-testid": "palette-button"},
    )


def command_palette() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Search and commands", size="3"),
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                value=SidebarState.search_query,
                on_change=SidebarState.search.debounce(200),
                placeholder="Search your chats…",
                auto_focus=True,
                aria_label="Search your chats",
                custom_attrs={"data-testid": "palette-input"},
            ),
            rx.box(
                rx.cond(
                    SidebarState.search_query != "",
                    search_results(),
                    rx.vstack(
                        _action("plus", "New chat", "new-chat", rx.redirect("/")),
                        _action("sparkles", "Choose the model", "choose-model", PickerState.set_open(True)),
                        _action("settings", "Settings and usage", "settings", rx.redirect("/settings")),
                        spacing="1",
                        width="100%",
                    ),
                ),
                padding_top="12px",
                max_height="60vh",
                overflow_y="auto",
            ),
            custom_attrs={"data-testid": "command-palette"},
        ),
        open=SidebarState.palette_open,
        on_open_change=SidebarState.set_palette_open,
    )
