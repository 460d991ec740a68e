"""Search results (the sidebar's, and the command palette's): each chat or message with its
matches marked; choosing one opens it and ends the search."""

import reflex as rx

from chat_app.state.sidebar import SearchRow, SidebarState


def _result(row: SearchRow) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(
                rx.text(row["chat_title"], size="2", weight="medium", trim="end"),
                rx.spacer(),
                rx.text(row["label"], size="1", color_scheme="gray"),
                width="100%",
            ),
            rx.text(
                rx.foreach(
                    row["parts"],
                    lambda part: rx.cond(part["hit"], rx.el.mark(part["text"]), rx.text.span(part["text"])),
                ),
                size="1",
                color_scheme="gray",
                class_name="search-snippet",
            ),
            spacing="0",
            width="100%",
        ),
        href=row["href"],
        on_click=SidebarState.clear_search,
        class_name="chat-link search-result",
        custom_attrs={"data-testid": "search-result", "data-palette-item": ""},
    )


def search_results() -> rx.Component:
    return rx.vstack(
        rx.foreach(SidebarState.search_results, _result),
        rx.cond(
            SidebarState.search_note != "",
            rx.text(
                SidebarState.search_note,
                size="2",
                color_scheme="gray",
                custom_attrs={"data-testid": "search-note"},
            ),
        ),
        spacing="1",
        width="100%",
    )
