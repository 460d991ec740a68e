"""Upload zones (Reflex's dropzone around a button)."""

import reflex as rx


def named_file_input(zone: rx.Component, testid: str, label: str) -> rx.Component:
    """The zone, its own <input type="file"> given a test handle and a name screen readers say."""
    file_input = zone.children[0].children[0]
    assert isinstance(file_input, rx.Component)
    file_input.custom_attrs["data-testid"] = testid
    file_input.custom_attrs["aria-label"] = label
    return zone
