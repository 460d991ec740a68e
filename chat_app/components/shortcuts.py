"""Every keyboard shortcut, in a dialog (Ctrl/Cmd+/ or the keyboard button); assets/keyboard.js
does what they say."""

import reflex as rx

from chat_app.components.controls import icon_action

SHORTCUTS: list[tuple[str, str]] = [
    ("Enter", "Send the message"),
    ("Shift+Enter", "A new line in the message"),
    ("Esc", "Stop the reply being written, or close a dialog"),
    ("Ctrl/⌘+K", "Command palette: search, new chat, model, settings"),
    ("Ctrl/⌘+Shift+O", "New chat"),
    ("/", "Write a message (from anywhere outside a text field)"),
    ("Ctrl/⌘+/", "These shortcuts"),
    ("↑ ↓", "Move through the model picker's and the palette's choices"),
]


def _row(keys: str, what: str) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(keys, variant="soft")),
        rx.table.cell(what),
        custom_attrs={"data-testid": "shortcut"},
    )


def shortcuts_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            icon_action(
                "keyboard",
                "Keyboard shortcuts",
                "shortcuts-button",
                icon_size=16,
                title="Keyboard shortcuts (Ctrl/⌘+/)",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Keyboard shortcuts"),
            rx.table.root(rx.table.body(*[_row(keys, what) for keys, what in SHORTCUTS]), size="1"),
            rx.flex(
                rx.dialog.close(
                    rx.button("Close", variant="soft", custom_attrs={"data-testid": "shortcuts-close"})
                ),
                justify="end",
                margin_top="1em",
            ),
            max_width="480px",
            custom_attrs={"data-testid": "shortcuts-dialog"},
        ),
    )
