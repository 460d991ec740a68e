"""Sign-in and registration forms: plain HTML posts, so the session cookie stays httpOnly."""

from typing import Literal

import reflex as rx
from reflex.vars.function import FunctionStringVar

from chat_app.state.auth import AuthState

# `next` may hold its own query string: it must travel as one encoded parameter.
_encode = FunctionStringVar.create("encodeURIComponent")


def _field(label: str, name: str, kind: Literal["email", "password"], testid: str, **props) -> rx.Component:
    return rx.el.label(
        rx.text(label, size="2", weight="medium"),
        rx.el.input(
            name=name,
            type=kind,
            required=True,
            custom_attrs={"data-testid": testid},
            class_name="auth-input",
            **props,
        ),
        class_name="auth-field",
    )


def _oidc_buttons() -> rx.Component:
    # rx.el.a is React Router's <Link> in Reflex 0.10: without reload_document the client router
    # takes the click and shows its 404 page instead of loading the server's redirect.
    return rx.foreach(
        AuthState.oidc_providers,
        lambda p: rx.el.a(
            "Continue with " + p["label"],
            href="/api/auth/oidc/" + p["name"] + "/login?next=" + _encode.call(AuthState.next_path).to(str),
            reload_document=True,
            class_name="oidc-button",
            custom_attrs={"data-testid": "oidc-" + p["name"]},
        ),
    )


def auth_form(
    *,
    title: str,
    action: str,
    submit_label: str,
    submit_testid: str,
    switch_text: str,
    switch_href: str,
    switch_label: str,
) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading(title, size="6"),
                rx.cond(
                    AuthState.auth_error != "",
                    rx.callout(
                        AuthState.auth_error,
                        icon="triangle_alert",
                        color_scheme="red",
                        role="alert",
                        custom_attrs={"data-testid": "auth-error"},
                        width="100%",
                    ),
                ),
                rx.el.form(
                    # Prefilled only once this page's own load has run: a value left from the page
                    # before must never appear (and land in the middle of what someone types).
                    _field(
                        "Email",
                        "email",
                        "email",
                        "email",
                        default_value=rx.cond(AuthState.is_hydrated, AuthState.form_email, ""),
                        auto_complete="email",
                        max_length=320,
                    ),
                    _field(
                        "Password",
                        "password",
                        "password",
                        "password",
                        min_length=8,
                        auto_complete="current-password" if action.endswith("login") else "new-password",
                    ),
                    rx.el.input(type="hidden", name="next", value=AuthState.next_path),
                    rx.button(
                        submit_label,
                        type="submit",
                        width="100%",
                        size="3",
                        custom_attrs={"data-testid": submit_testid},
                    ),
                    action=action,
                    method="post",
                    on_submit=None,
                    class_name="auth-form",
                ),
                _oidc_buttons(),
                rx.text(
                    switch_text,
                    " ",
                    # the way back (e.g. to a shared chat) survives switching between the forms
                    rx.link(
                        switch_label,
                        href=switch_href + "?next=" + _encode.call(AuthState.next_path).to(str),
                        underline="always",  # told apart from the sentence by more than its colour
                        custom_attrs={"data-testid": "switch-auth-form"},
                    ),
                    size="2",
                ),
                spacing="4",
                width="100%",
            ),
            width="min(420px, 92vw)",
            size="4",
        ),
        min_height="100vh",
    )
