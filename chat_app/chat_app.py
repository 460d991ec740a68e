"""The Reflex app: pages and the mounted HTTP API, nothing else."""

import reflex as rx

from chat_app.api.app import make_api
from chat_app.pages import auth, chat  # noqa: F401  (registers the pages)

app = rx.App(
    theme=rx.theme(accent_color="indigo", radius="medium"),
    stylesheets=["/styles.css"],
    api_transformer=make_api(),
)
