"""/login and /register."""

import reflex as rx

from chat_app.components.auth_forms import auth_form
from chat_app.state.auth import AuthState


@rx.page(route="/login", title="Sign in", on_load=AuthState.load_auth_page)
def login_page() -> rx.Component:
    return auth_form(
        title="Sign in",
        action="/api/auth/login",
        submit_label="Sign in",
        submit_testid="sign-in",
        switch_text="No account yet?",
        switch_href="/register",
        switch_label="Create one",
    )


@rx.page(route="/register", title="Create account", on_load=AuthState.load_auth_page)
def register_page() -> rx.Component:
    return auth_form(
        title="Create your account",
        action="/api/auth/register",
        submit_label="Create account",
        submit_testid="register",
        switch_text="Already registered?",
        switch_href="/login",
        switch_label="Sign in",
    )
