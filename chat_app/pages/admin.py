"""/admin: the operator's page (administrators only)."""

import reflex as rx

from chat_app.components.admin import admin_view
from chat_app.state.admin import AdminState


@rx.page(route="/admin", title="Administration", on_load=AdminState.load_admin)
def admin_page() -> rx.Component:
    return admin_view()
