"""The settings page's API tokens: make one (named), see it once, list them, revoke one."""

from __future__ import annotations

import reflex as rx

from chat_app.services import api_tokens
from chat_app.services.api_tokens import TokenSummary
from chat_app.settings import get_settings
from chat_app.state.auth import AuthState, Refused


class ApiTokenState(AuthState):
    api_tokens: rx.Field[list[TokenSummary]] = rx.field(default_factory=list)
    # The token just made, shown until the page is left or another is made: it is never shown again.
    new_token: rx.Field[str] = rx.field("")
    new_token_name: rx.Field[str] = rx.field("")
    api_base_url: rx.Field[str] = rx.field("")  # where programs send OpenAI's requests

    @rx.event
    async def load_api_tokens(self):
        result = await self._act(lambda user, session: api_tokens.list_tokens(user, session=session))
        if isinstance(result, Refused):
            return result.effect
        self.api_tokens = result
        self.new_token = self.new_token_name = ""
        self.api_base_url = f"{get_settings().public_url.rstrip('/')}/v1"

    @rx.event
    async def create_api_token(self, form_data: dict):
        name = str(form_data.get("name", ""))

        def work(user, session):
            made = api_tokens.create(user, name, session=session)
            return made, api_tokens.list_tokens(user, session=session)

        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        made, self.api_tokens = result
        self.new_token, self.new_token_name = made["token"], made["name"]

    @rx.event
    async def revoke_api_token(self, token_id: str):
        def work(user, session):
            api_tokens.revoke(user, token_id, session=session)
            return api_tokens.list_tokens(user, session=session)

        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        self.api_tokens = result
        return rx.toast.success("Token revoked. Programs using it are refused from now on.")

    @rx.event
    def forget_new_token(self):
        self.new_token = self.new_token_name = ""
