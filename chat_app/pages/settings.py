"""/settings."""

import reflex as rx

from chat_app.components.settings import settings_view
from chat_app.state.api_tokens import ApiTokenState
from chat_app.state.settings import SettingsState


@rx.page(
    route="/settings",
    title="Settings",
    on_load=[SettingsState.load_settings, SettingsState.load_usage_limits, ApiTokenState.load_api_tokens],
)
def settings_page() -> rx.Component:
    return settings_view()
