"""/ (a new chat), /chat/<id>, and the links that lead to chats: /share/<token>, /invite/<token>."""

import reflex as rx

from chat_app.components.layout import chat_shell
from chat_app.state.chat import ChatState
from chat_app.state.dialogs import DialogsState


@rx.page(route="/", title="Chat", on_load=[DialogsState.close_all, ChatState.load_home])
def home_page() -> rx.Component:
    return chat_shell()


@rx.page(route="/chat/[chat_id]", title="Chat", on_load=[DialogsState.close_all, ChatState.load_chat])
def chat_page() -> rx.Component:
    return chat_shell()


@rx.page(route="/share/[token]", title="Shared chat", on_load=[DialogsState.close_all, ChatState.load_shared])
def shared_page() -> rx.Component:
    return chat_shell()


@rx.page(route="/invite/[token]", title="Invitation", on_load=[DialogsState.close_all, ChatState.load_invite])
def invite_page() -> rx.Component:
    return chat_shell()
