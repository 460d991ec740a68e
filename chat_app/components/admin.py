"""The admin page: registration, then people with their use, spend, limits and a switch to disable."""

import reflex as rx

from chat_app.state.admin import PAGE_SIZE, AdminState, PersonRow

_LIMIT_FIELDS = (
    ("replies_in_flight", "replies_in_flight_override", "At once", "96px"),
    ("requests_per_minute", "requests_per_minute_override", "A minute", "96px"),
    ("monthly_spend", "monthly_spend_override", "$ a month", "110px"),
)


def _limit_input(person: PersonRow, name: str, override: str, label: str, width: str) -> rx.Component:
    return rx.el.label(
        rx.text(label, size="1", color_scheme="gray"),
        rx.el.input(
            name=name,
            default_value=person[override],
            placeholder="default",
            inputmode="decimal",
            class_name="auth-input",
            width=width,
            custom_attrs={"data-testid": "admin-limit-input", "data-limit": name},
        ),
        class_name="auth-field",
    )


def _row_action(label: str, on_click: rx.event.EventType, testid: str, color: str) -> rx.Component:
    return rx.button(
        label,
        size="1",
        variant="soft",
        color_scheme=color,  # pyright: ignore[reportArgumentType]
        on_click=on_click,
        custom_attrs={"data-testid": testid, "data-action": label.lower()},
    )


def _person_row(person: PersonRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(person["email"], weight="medium", trim="end"),
                rx.cond(person["is_admin"], rx.badge("administrator", color_scheme="indigo")),
                rx.cond(person["disabled"], rx.badge("disabled", color_scheme="red")),
                rx.spacer(),
                rx.cond(
                    person["is_admin"],
                    _row_action(
                        "Remove administrator",
                        AdminState.set_admin(person["id"], False),
                        "admin-role",
                        "gray",
                    ),
                    _row_action(
                        "Make administrator", AdminState.set_admin(person["id"], True), "admin-role", "indigo"
                    ),
                ),
                rx.cond(
                    person["disabled"],
                    _row_action(
                        "Enable", AdminState.set_disabled(person["id"], False), "admin-disable", "green"
                    ),
                    _row_action(
                        "Disable", AdminState.set_disabled(person["id"], True), "admin-disable", "red"
                    ),
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.text(
                person["replies_in_flight"],
                " in flight · ",
                person["spent_label"],
                " this month · limits: ",
                person["limits_label"],
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.hstack(
                    rx.el.input(type="hidden", name="person_id", value=person["id"]),
                    *(_limit_input(person, *field) for field in _LIMIT_FIELDS),
                    rx.button(
                        "Save limits",
                        type="submit",
                        size="1",
                        custom_attrs={"data-testid": "admin-save-limits"},
                    ),
                    align="end",
                    spacing="3",
                    wrap="wrap",
                ),
                on_submit=AdminState.save_limits,
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "admin-person-row", "data-email": person["email"]},
    )


def _registration() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Registration", size="4"),
                rx.text(
                    "Who may open an account. Addresses in ADMIN_EMAILS may always register.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.hstack(
                    rx.el.select(
                        rx.el.option("Open to anyone", value="open"),
                        rx.el.option("Only these email domains", value="domains"),
                        rx.el.option("Closed", value="closed"),
                        name="mode",
                        value=AdminState.registration_mode,
                        on_change=AdminState.choose_registration_mode,
                        class_name="model-select",
                        custom_attrs={"data-testid": "admin-registration-mode"},
                    ),
                    rx.cond(
                        AdminState.registration_mode == "domains",
                        rx.el.input(
                            name="domains",
                            default_value=AdminState.registration_domains,
                            placeholder="example.com, example.org",
                            class_name="auth-input",
                            flex="1",
                            custom_attrs={"data-testid": "admin-registration-domains"},
                        ),
                    ),
                    rx.button(
                        "Save",
                        type="submit",
                        size="2",
                        custom_attrs={"data-testid": "admin-registration-save"},
                    ),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=AdminState.save_registration,
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "admin-registration"},
    )


def _people() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("People", size="4"),
            rx.text(AdminState.total.to_string() + " accounts", size="2", color_scheme="gray"),
            rx.spacer(),
            rx.button(
                "Previous",
                size="1",
                variant="soft",
                on_click=AdminState.previous_page,
                disabled=AdminState.offset == 0,
            ),
            rx.button(
                "Next",
                size="1",
                variant="soft",
                on_click=AdminState.next_page,
                disabled=AdminState.offset + PAGE_SIZE >= AdminState.total,
            ),
            width="100%",
            align="center",
        ),
        rx.text(
            "Limits: blank for the server's default, 0 for no limit. Spend counts replies on keys "
            "the person does not own.",
            size="2",
            color_scheme="gray",
        ),
        rx.foreach(AdminState.people, _person_row),
        spacing="3",
        width="100%",
        custom_attrs={"data-testid": "admin-people"},
    )


def admin_view() -> rx.Component:
    return rx.container(
        rx.vstack(
            rx.hstack(
                rx.heading("Administration", size="6"),
                rx.spacer(),
                rx.link("Back to chats", href="/"),
                width="100%",
                align="center",
            ),
            rx.cond(
                AdminState.refused != "",
                rx.callout(
                    AdminState.refused, color_scheme="red", custom_attrs={"data-testid": "admin-refused"}
                ),
                rx.fragment(_registration(), _people()),
            ),
            spacing="4",
            width="100%",
            padding_y="24px",
        ),
        size="3",
    )
