"""The summary a reply was sent with, in a dialog opened from the reply's note."""

import reflex as rx

from chat_app.state.summary import SummaryState


def summary_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Summary of earlier messages"),
            rx.vstack(
                rx.dialog.description(
                    rx.text(
                        SummaryState.summary_about,
                        size="2",
                        color_scheme="gray",
                        custom_attrs={"data-testid": "summary-about"},
                    ),
                    as_child=True,
                ),
                rx.scroll_area(
                    rx.text(
                        SummaryState.summary_text,
                        size="3",
                        white_space="pre-wrap",
                        custom_attrs={"data-testid": "summary-text"},
                    ),
                    type="auto",
                    scrollbars="vertical",
                    max_height="60vh",
                ),
                rx.hstack(
                    rx.dialog.close(
                        rx.button(
                            "Close",
                            variant="soft",
                            type="button",
                            custom_attrs={"data-testid": "summary-close"},
                        )
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            custom_attrs={"data-testid": "summary-dialog"},
            max_width="640px",
        ),
        open=SummaryState.summary_open,
        on_open_change=SummaryState.set_summary_open,
    )
