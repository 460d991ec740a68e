"""Reflex configuration: app name, database URL and quiet, offline-friendly defaults."""

from pathlib import Path

import reflex as rx
from dotenv import load_dotenv

from chat_app.settings import settings_or_exit

# An operator's .env fills in what the real environment does not set.
load_dotenv(Path(__file__).with_name(".env"), override=False)

_settings = settings_or_exit()  # a bad value stops start-up here, with a sentence naming it

config = rx.Config(
    app_name="chat_app",
    db_url=_settings.database_url,
    # With Redis, Reflex keeps each tab's state there and runs several workers (GRANIAN_WORKERS).
    redis_url=_settings.redis_url or None,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Reflex's default echoes any Origin with credentials; only our own origin may call us.
    cors_allowed_origins=_settings.allowed_origins,
    disable_plugins=[rx.plugins.SitemapPlugin],
)
