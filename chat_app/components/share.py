"""The "Share this chat" button and dialog (the owner's alone)."""

import reflex as rx

from chat_app.components.controls import icon_action
from chat_app.state.share import INVITE_EMAIL_ID, ShareState


def _invitee(invite) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(invite["email"], size="2", trim="end"),
            rx.text(rx.cond(invite["joined"], "joined", "invited"), size="1", color_scheme="gray"),
            spacing="0",
            flex="1 1 12em",
            min_width="0",
        ),
        rx.cond(
            ~invite["joined"],
            rx.button(
                rx.icon("link", size=12),
                "Copy invite",
                size="1",
                variant="ghost",
                type="button",
                on_click=ShareState.copy_invite_link(invite["invite_link"]),
                custom_attrs={"data-testid": "copy-invite-link"},
            ),
        ),
        rx.text("Can edit", size="1"),
        rx.switch(
            checked=invite["can_edit"],
            on_change=lambda value: ShareState.set_invitee_edit(invite["email"], value),
            aria_label="Can edit",
            custom_attrs={"data-testid": "invitee-can-edit"},
        ),
        icon_action(
            "x",
            "Remove access",
            "remove-invitee",
            color_scheme="red",
            on_click=ShareState.remove_invitee(invite["email"]),
        ),
        align="center",
        width="100%",
        spacing="2",
        wrap="wrap",
        custom_attrs={
            "data-testid": "invitee",
            "data-email": invite["email"],
            "data-can-edit": rx.cond(invite["can_edit"], "true", "false"),
        },
    )


def _invite_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("Invite people", weight="bold", size="2"),
            rx.hstack(
                rx.input(
                    id=INVITE_EMAIL_ID,
                    name="emails",
                    placeholder="name@example.com, another@example.com",
                    type="text",
                    flex="1",
                    custom_attrs={"data-testid": "invite-email"},
                ),
                rx.button("Invite", type="submit", custom_attrs={"data-testid": "invite-submit"}),
                width="100%",
            ),
            rx.hstack(
                rx.switch(
                    checked=ShareState.invite_can_edit,
                    on_change=ShareState.set_invite_can_edit,
                    custom_attrs={"data-testid": "invite-can-edit"},
                    aria_label="Invitees can edit",
                ),
                rx.text(
                    "Can edit (send messages; replies are billed to your keys unless they use their own)",
                    size="1",
                ),
                align="center",
            ),
            width="100%",
            spacing="2",
        ),
        on_submit=ShareState.send_invites,
        reset_on_submit=False,
    )


def share_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Share this chat"),
            rx.vstack(
                rx.hstack(
                    rx.switch(
                        checked=ShareState.is_public,
                        on_change=ShareState.set_public,
                        custom_attrs={"data-testid": "public-toggle"},
                        aria_label="Public",
                    ),
                    rx.vstack(
                        rx.text("Public", weight="bold", size="2"),
                        rx.text(
                            rx.cond(
                                ShareState.is_public,
                                "Anyone with the link can read this chat.",
                                "Only you and the people you invite can open the link.",
                            ),
                            size="1",
                            color_scheme="gray",
                        ),
                        spacing="0",
                    ),
                    align="center",
                ),
                rx.hstack(
                    rx.code(
                        ShareState.share_link,
                        class_name="share-link",
                        custom_attrs={"data-testid": "share-link"},
                    ),
                    width="100%",
                ),
                rx.hstack(
                    rx.button(
                        rx.icon("copy", size=14),
                        "Copy link",
                        type="button",
                        on_click=ShareState.copy_link,
                        custom_attrs={"data-testid": "copy-link"},
                    ),
                    rx.button(
                        rx.icon("refresh-cw", size=14),
                        "New link",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=ShareState.rotate_link,
                        title="Make a new link; the old one stops working",
                        custom_attrs={"data-testid": "rotate-link"},
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.separator(size="4"),
                _invite_form(),
                rx.cond(
                    ShareState.share_notice != "",
                    rx.text(ShareState.share_notice, size="2", custom_attrs={"data-testid": "share-notice"}),
                ),
                rx.cond(
                    ShareState.invites.length() > 0,
                    rx.vstack(
                        rx.text("People with access", weight="bold", size="2"),
                        rx.foreach(ShareState.invites, _invitee),
                        width="100%",
                        spacing="2",
                    ),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Done", variant="soft", type="button")),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            custom_attrs={"data-testid": "share-dialog"},
            max_width="560px",
        ),
        open=ShareState.share_open,
        on_open_change=ShareState.set_share_open,
    )


def share_button() -> rx.Component:
    return rx.fragment(
        rx.button(
            rx.icon("share-2", size=14),
            rx.text("Share", class_name="hide-narrow"),
            size="1",
            variant="soft",
            on_click=ShareState.open_share,
            custom_attrs={"data-testid": "share-button"},
        ),
        share_dialog(),
    )
