"""/ (a new chat) and /chat/<id>."""

import reflex as rx

from chat_app.components.layout import chat_shell
from chat_app.state.chat import ChatState


@rx.page(route="/", title="Chat", on_load=ChatState.load_home)
def home_page() -> rx.Component:
    return chat_shell()


@rx.page(route="/chat/[chat_id]", title="Chat", on_load=ChatState.load_chat)
def chat_page() -> rx.Component:
    return chat_shell()
