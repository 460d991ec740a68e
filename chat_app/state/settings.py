"""The settings page: the person's usage totals and their own provider keys."""

from __future__ import annotations

import reflex as rx

from chat_app.services import keys, usage
from chat_app.services.keys import KeySummary
from chat_app.services.usage import UsageTotals
from chat_app.state.auth import AuthState


class SettingsState(AuthState):
    # Only summaries ever reach the browser: "set" and the last four characters, never a key.
    api_keys: list[KeySummary] = []
    totals: UsageTotals = UsageTotals(replies=0, input_tokens=0, output_tokens=0, cost=0.0, cost_label="$0.00")

    @rx.event
    async def load_settings(self):
        result, effect = await self._act(
            lambda user, session: (user.email, keys.summaries(user, session=session), usage.totals(user, session=session))
        )
        if effect:
            return effect
        self.user_email, self.api_keys, self.totals = result

    @rx.event
    async def save_key(self, form_data: dict):
        provider, raw = str(form_data.get("provider", "")), str(form_data.get("api_key", ""))

        def work(user, session):
            keys.set_key(user, provider, raw, session=session)
            return keys.summaries(user, session=session)

        result, effect = await self._act(work)
        if effect:
            return effect
        self.api_keys = result
        return rx.toast.success("Key saved. Your requests use it now.")

    @rx.event
    async def delete_key(self, provider: str):
        def work(user, session):
            keys.delete_key(user, provider, session=session)
            return keys.summaries(user, session=session)

        result, effect = await self._act(work)
        if effect:
            return effect
        self.api_keys = result
        return rx.toast.success("Key deleted.")
