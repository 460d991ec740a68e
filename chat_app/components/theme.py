"""Light, dark, or as the system says: the choice is kept in the browser (Reflex's color mode,
in localStorage), and "system" follows the device's own setting as it changes."""

from typing import Literal

import reflex as rx
from reflex.style import color_mode, set_color_mode

ACCENT_COLOR = "indigo"  # the app's accent (rx.theme); a control that sometimes takes another names it
Mode = Literal["light", "dark", "system"]
_MODES: list[tuple[Mode, str, str]] = [
    ("light", "Light", "sun"),
    ("dark", "Dark", "moon"),
    ("system", "System", "monitor"),
]


def _item(mode: Mode, label: str, icon: str) -> rx.Component:
    return rx.dropdown_menu.item(
        rx.hstack(
            rx.icon(icon, size=14),
            rx.text(label),
            rx.cond(color_mode == mode, rx.icon("check", size=14)),
            align="center",
        ),
        on_click=set_color_mode(mode),
        custom_attrs={"data-testid": f"theme-{mode}"},
    )


def theme_menu() -> rx.Component:
    return rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.icon_button(
                rx.color_mode.icon(),
                size="1",
                variant="ghost",
                type="button",
                aria_label="Theme: light, dark or as the system",
                title="Theme",
                custom_attrs={"data-testid": "theme-toggle", "data-mode": color_mode},
            ),
        ),
        rx.dropdown_menu.content(*[_item(mode, label, icon) for mode, label, icon in _MODES]),
    )
