"""The Reflex app: pages, the mounted HTTP API and the catalog sync at start-up, nothing else."""

import asyncio

import reflex as rx

from chat_app import collector, logs
from chat_app.api.app import make_api
from chat_app.components.theme import ACCENT_COLOR
from chat_app.pages import admin, auth, chat, settings  # noqa: F401  (registers the pages)
from chat_app.services import runtime
from chat_app.services.catalog import sync_configured_catalog
from chat_app.settings import get_settings

_settings = get_settings()
logs.configure(_settings.log_format, _settings.log_level)


async def sync_catalog_on_start() -> None:
    """A new catalog file (or operator file) takes effect when the server starts."""
    await asyncio.to_thread(sync_configured_catalog)


app = rx.App(
    theme=rx.theme(accent_color=ACCENT_COLOR, radius="medium"),
    stylesheets=["/styles.css"],
    head_components=[
        rx.script(src="/keyboard.js"),
        rx.script(src="/follow.js"),
        rx.script(src="/paste.js"),
        rx.script(src="/live.js"),
        rx.script(src="/address.js"),
        rx.script(src="/jump.js"),
        rx.script(src="/viewer.js"),
        rx.script(src="/focus.js"),
    ],
    api_transformer=make_api(),
    # At the top: a toast at the bottom (sonner's default) covers Send, and stays while the pointer
    # rests on it.
    toaster=rx.toast.provider(position="top-center"),
)
app.register_lifespan_task(sync_catalog_on_start)
app.register_lifespan_task(collector.settle_for_serving)
# The live channel, the batched writer, heartbeat and reaper; on SIGTERM this worker's replies
# end saved (stopped, with their text) before it exits.
app.register_lifespan_task(runtime.lifespan)
