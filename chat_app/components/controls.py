"""Small controls the pages share."""

from typing import Any

import reflex as rx


def icon_action(
    icon: Any, label: Any, testid: Any, *, icon_size: int = 14, title: Any = None, **props
) -> rx.Component:
    """A small icon button that says what it does: `label` names it for screen readers and, as
    its tooltip (unless `title` says more), for the mouse; `testid` is its data-testid. Never a
    form's submit button. Other props (on_click, disabled, variant, color_scheme, ...) pass on."""
    props.setdefault("variant", "ghost")
    return rx.icon_button(
        rx.icon(icon, size=icon_size),
        size="1",
        type="button",
        aria_label=label,
        title=label if title is None else title,
        custom_attrs={"data-testid": testid},
        **props,
    )
