"""Settings: usage totals, the person's own provider keys, API tokens, where they are signed in,
their password."""

import reflex as rx

from chat_app.components.uploads import named_file_input
from chat_app.state.api_tokens import ApiTokenState, TokenSummary
from chat_app.state.imports import UPLOAD_ID as IMPORT_UPLOAD_ID
from chat_app.state.imports import ImportState
from chat_app.state.settings import KeySummary, SessionSummary, SettingsState


def _key_row(summary: KeySummary) -> rx.Component:
    provider = summary["provider"]
    return rx.form(
        rx.hstack(
            rx.text(summary["label"], weight="medium", width="140px"),
            rx.cond(
                summary["is_set"],
                rx.badge(
                    "set · …" + summary["last4"],
                    color_scheme="green",
                    custom_attrs={"data-testid": "api-key-status-" + provider},
                ),
                rx.badge(
                    "not set", color_scheme="gray", custom_attrs={"data-testid": "api-key-status-" + provider}
                ),
            ),
            rx.el.input(type="hidden", name="provider", value=provider),
            rx.el.input(
                name="api_key",
                type="password",
                auto_complete="off",
                placeholder="Paste a key",
                class_name="auth-input",
                flex="1",
                min_width="160px",
                custom_attrs={"data-testid": "api-key-input-" + provider},
            ),
            rx.button(
                "Save", type="submit", size="2", custom_attrs={"data-testid": "api-key-save-" + provider}
            ),
            rx.cond(
                summary["is_set"],
                rx.button(
                    "Delete",
                    type="button",
                    size="2",
                    variant="soft",
                    color_scheme="red",
                    on_click=SettingsState.delete_key(provider),
                    custom_attrs={"data-testid": "api-key-delete-" + provider},
                ),
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        on_submit=SettingsState.save_key,
        reset_on_submit=True,  # a key never stays in the field, saved or refused
        width="100%",
    )


def _limit_line(label: str, value: rx.Var, testid: str, *after) -> rx.Component:
    return rx.text(label, " ", rx.text.strong(value), *after, size="2", custom_attrs={"data-testid": testid})


def usage_limits_card() -> rx.Component:
    """The person's use against their limits: replies in flight, requests this minute, spend this month."""
    limits = SettingsState.usage_limits
    return rx.card(
        rx.vstack(
            rx.heading("Your limits", size="4"),
            _limit_line("Replies in flight:", limits["replies_in_flight_label"], "limit-in-flight"),
            _limit_line("Requests this minute:", limits["requests_label"], "limit-requests"),
            _limit_line(
                "Spent this month:",
                limits["spend_label"],
                "limit-spend",
                " · resets on " + limits["spend_resets"].to(str),
            ),
            rx.text(
                "Replies paid with your own API key do not count against your monthly allowance.",
                size="1",
                color_scheme="gray",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "usage-limits"},
    )


def _token_row(token: TokenSummary) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.text(token["name"], weight="medium"),
                rx.code(token["prefix"] + "…", size="1"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.text(
                "Made ", token["created"], " · last used ", token["last_used"], size="1", color_scheme="gray"
            ),
            spacing="0",
        ),
        rx.spacer(),
        rx.button(
            "Revoke",
            type="button",
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=ApiTokenState.revoke_api_token(token["id"]),
            custom_attrs={"data-testid": "api-token-revoke"},
        ),
        width="100%",
        align="center",
        custom_attrs={"data-testid": "api-token-row"},
    )


def _new_token() -> rx.Component:
    """The token just made, with a copy button: the only time it is shown."""
    return rx.callout.root(
        rx.vstack(
            rx.text(
                "Your new token “",
                ApiTokenState.new_token_name,
                "”. Copy it now: it is not shown again.",
                size="2",
                weight="medium",
            ),
            rx.hstack(
                rx.code(
                    ApiTokenState.new_token,
                    word_break="break-all",
                    custom_attrs={"data-testid": "api-token-value"},
                ),
                rx.button(
                    rx.icon("copy", size=14),
                    "Copy",
                    type="button",
                    size="1",
                    variant="soft",
                    on_click=[rx.set_clipboard(ApiTokenState.new_token), rx.toast.success("Token copied.")],
                    custom_attrs={"data-testid": "api-token-copy"},
                ),
                rx.button(
                    "Done", type="button", size="1", variant="ghost", on_click=ApiTokenState.forget_new_token
                ),
                align="center",
                wrap="wrap",
            ),
            spacing="2",
        ),
        color_scheme="green",
        width="100%",
    )


def _api_tokens_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("API tokens", size="4"),
            rx.text(
                "A program that speaks OpenAI's API (its own clients, LiteLLM, editors and tools) works "
                "with this server given the base URL ",
                rx.code(ApiTokenState.api_base_url, custom_attrs={"data-testid": "api-base-url"}),
                " and a token of yours as its API key. It acts as you: the same models, keys, limits and "
                'monthly allowance. Add "save": true to a request to keep the exchange as a chat here. '
                "A token is shown once, when it is made: only a hash of it is kept.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.hstack(
                    rx.el.input(
                        name="name",
                        required=True,
                        max_length=100,
                        auto_complete="off",
                        placeholder="Name it after the program that will use it",
                        class_name="auth-input",
                        flex="1",
                        min_width="200px",
                        custom_attrs={"data-testid": "api-token-name"},
                    ),
                    rx.button(
                        "Make a token",
                        type="submit",
                        size="2",
                        custom_attrs={"data-testid": "api-token-create"},
                    ),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
                on_submit=ApiTokenState.create_api_token,
                reset_on_submit=True,
                width="100%",
            ),
            rx.cond(ApiTokenState.new_token != "", _new_token()),
            rx.foreach(ApiTokenState.api_tokens, _token_row),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _session_row(summary: SessionSummary) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.text(summary["device"], weight="medium", custom_attrs={"title": summary["user_agent"]}),
                rx.cond(summary["is_current"], rx.badge("this browser", color_scheme="green")),
                align="center",
                spacing="2",
            ),
            rx.text(
                "Signed in ",
                summary["created"],
                " · last used ",
                summary["last_seen"],
                rx.cond(summary["client_address"] != "", " · from " + summary["client_address"], ""),
                size="1",
                color_scheme="gray",
            ),
            spacing="0",
        ),
        rx.spacer(),
        rx.cond(
            ~summary["is_current"],
            rx.button(
                "End",
                type="button",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=SettingsState.end_session(summary["id"]),
                custom_attrs={"data-testid": "end-session"},
            ),
        ),
        width="100%",
        align="center",
        custom_attrs={
            "data-testid": "session-row",
            "data-current": rx.cond(summary["is_current"], "true", "false"),
        },
    )


def _sessions_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Where you are signed in", size="4"),
                rx.spacer(),
                rx.button(
                    "Sign out everywhere else",
                    type="button",
                    size="2",
                    variant="soft",
                    disabled=SettingsState.sessions.length() < 2,
                    on_click=SettingsState.end_other_sessions,
                    custom_attrs={"data-testid": "end-other-sessions"},
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.text(
                "A session you do not recognise may be someone else's: end it, and change your password.",
                size="2",
                color_scheme="gray",
            ),
            rx.foreach(SettingsState.sessions, _session_row),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _action_card(title: str, about: str, action: rx.Component, *below: rx.Component) -> rx.Component:
    """A card with one action: what it is for, the action beside that, what it said below."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.heading(title, size="4"), rx.text(about, size="2", color_scheme="gray"), spacing="1"
                ),
                rx.spacer(),
                action,
                width="100%",
                align="center",
                wrap="wrap",
            ),
            *below,
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _export_card() -> rx.Component:
    return _action_card(
        "Your chats, to keep",
        "Every chat of yours in one zip: each as JSON and Markdown, with its pictures and videos.",
        rx.button(
            "Download all chats",
            on_click=rx.download(url="/api/export"),
            size="2",
            variant="soft",
            custom_attrs={"data-testid": "export-all"},
        ),
    )


def _import_card() -> rx.Component:
    zone = rx.upload(
        rx.button(
            rx.cond(ImportState.importing, rx.spinner(size="1"), rx.icon("upload", size=14)),
            rx.cond(ImportState.importing, "Importing…", "Import a file"),
            type="button",
            size="2",
            variant="soft",
            disabled=ImportState.importing,
            custom_attrs={"data-testid": "import-button"},
        ),
        id=IMPORT_UPLOAD_ID,
        accept={"application/json": [".json"], "application/zip": [".zip"]},
        multiple=False,
        disabled=ImportState.importing,
        on_drop=ImportState.import_chats(rx.upload_files_chunk(upload_id=IMPORT_UPLOAD_ID)),
        border="none",
        padding="0",
    )
    return _action_card(
        "Bring your chats",
        "From ChatGPT or Claude (their conversations.json), Open WebUI, LibreChat, or a chat downloaded "
        "here. Each conversation becomes a chat of yours.",
        named_file_input(zone, "import-file-input", "Import conversations from a file"),
        rx.cond(
            ImportState.import_summary != "",
            rx.text(ImportState.import_summary, size="2", custom_attrs={"data-testid": "import-summary"}),
        ),
        rx.foreach(
            ImportState.import_failures,
            lambda line: rx.text(
                line, size="1", color_scheme="red", custom_attrs={"data-testid": "import-failure"}
            ),
        ),
    )


def _password_input(name: str, placeholder: str, testid: str, **props) -> rx.Component:
    return rx.el.input(
        name=name,
        type="password",
        required=True,
        placeholder=placeholder,
        class_name="auth-input",
        custom_attrs={"data-testid": testid},
        **props,
    )


def _password_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Password", size="4"),
            rx.cond(
                SettingsState.has_password,
                rx.form(
                    rx.vstack(
                        _password_input(
                            "current_password",
                            "Current password",
                            "current-password",
                            auto_complete="current-password",
                        ),
                        _password_input(
                            "new_password",
                            "New password (8 characters or more)",
                            "new-password",
                            auto_complete="new-password",
                            min_length=8,
                        ),
                        rx.button(
                            "Change password",
                            type="submit",
                            size="2",
                            custom_attrs={"data-testid": "change-password-submit"},
                        ),
                        spacing="2",
                        width="min(360px, 100%)",
                    ),
                    on_submit=SettingsState.change_password,
                    reset_on_submit=True,  # no password stays in the page, changed or refused
                    custom_attrs={"data-testid": "change-password-form"},
                ),
                rx.text(
                    "You sign in through your identity provider: this account has no password.", size="2"
                ),
            ),
            rx.cond(
                SettingsState.password_message != "",
                rx.text(
                    SettingsState.password_message, size="2", custom_attrs={"data-testid": "password-message"}
                ),
            ),
            rx.text("Changing it signs you out everywhere else.", size="1", color_scheme="gray"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def settings_view() -> rx.Component:
    totals = SettingsState.totals
    return rx.container(
        rx.vstack(
            rx.hstack(
                rx.heading("Settings", size="6"),
                rx.spacer(),
                rx.link("Back to chats", href="/"),
                width="100%",
                align="center",
            ),
            rx.hstack(
                rx.text(SettingsState.user_email, color_scheme="gray", size="2"),
                rx.cond(
                    SettingsState.email_verified,
                    rx.badge("confirmed", color_scheme="green", custom_attrs={"data-testid": "email-status"}),
                    rx.badge(
                        "not confirmed",
                        color_scheme="amber",
                        high_contrast=True,  # amber text is too faint on a light page otherwise
                        custom_attrs={"data-testid": "email-status"},
                    ),
                ),
                rx.cond(
                    ~SettingsState.email_verified & SettingsState.email_enabled,
                    rx.button(
                        "Send confirmation email",
                        size="1",
                        variant="soft",
                        on_click=SettingsState.send_confirmation,
                        custom_attrs={"data-testid": "resend-verification"},
                    ),
                ),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.cond(
                ~SettingsState.email_verified,
                rx.text(
                    "Chats shared with your address open for you once it is confirmed (or through the "
                    "invitation link you were sent). Until then, signing in with a provider for this "
                    "address ends this password, your keys and the sharing of your chats, in case "
                    "someone else registered it.",
                    size="1",
                    color_scheme="gray",
                ),
            ),
            rx.cond(
                SettingsState.verify_message != "",
                rx.text(
                    SettingsState.verify_message, size="2", custom_attrs={"data-testid": "verify-message"}
                ),
            ),
            rx.card(
                rx.vstack(
                    rx.heading("Usage", size="4"),
                    rx.hstack(
                        rx.text(
                            "Total cost ",
                            rx.text.strong(totals["cost_label"]),
                            custom_attrs={"data-testid": "usage-total-cost"},
                        ),
                        rx.text(totals["replies"].to_string() + " replies"),
                        rx.text(
                            totals["input_tokens"].to_string()
                            + " tokens in · "
                            + totals["output_tokens"].to_string()
                            + " out",
                            custom_attrs={"data-testid": "usage-total-tokens"},
                        ),
                        spacing="5",
                        wrap="wrap",
                    ),
                ),
                width="100%",
            ),
            usage_limits_card(),
            rx.card(
                rx.vstack(
                    rx.heading("Your own API keys", size="4"),
                    rx.text(
                        "A key you add here is used instead of the server's for your own requests. "
                        "It is stored encrypted and never shown again: only its last four characters.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.foreach(SettingsState.api_keys, _key_row),
                    spacing="3",
                    width="100%",
                ),
                width="100%",
            ),
            _api_tokens_card(),
            _sessions_card(),
            _password_card(),
            _export_card(),
            _import_card(),
            spacing="4",
            width="100%",
            padding_y="24px",
        ),
        size="3",
    )
