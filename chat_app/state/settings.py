"""The settings page: the person's usage totals and their own provider keys."""

from __future__ import annotations

import asyncio

import reflex as rx

from chat_app.services import budgets, keys, mailer, usage, verification
from chat_app.services.budgets import BudgetStanding
from chat_app.services.keys import KeySummary
from chat_app.services.usage import UsageTotals
from chat_app.state.auth import AuthState, Refused


class SettingsState(AuthState):
    # Only summaries ever reach the browser: "set" and the last four characters, never a key.
    api_keys: rx.Field[list[KeySummary]] = rx.field(default_factory=list)
    totals: rx.Field[UsageTotals] = rx.field(
        default_factory=lambda: UsageTotals(
            replies=0, input_tokens=0, output_tokens=0, cost=0.0, cost_label="$0.00"
        )
    )
    email_verified: rx.Field[bool] = rx.field(False)
    email_enabled: rx.Field[bool] = rx.field(False)  # the server can send email (confirmation links)
    verify_message: rx.Field[str] = rx.field("")

    @rx.event
    async def load_settings(self):
        result = await self._act(
            lambda user, session: (
                user.email,
                keys.summaries(user, session=session),
                usage.totals(user, session=session),
                user.email_verified,
            )
        )
        if isinstance(result, Refused):
            return result.effect
        self.user_email, self.api_keys, self.totals, self.email_verified = result
        self.email_enabled = mailer.enabled()
        params = self.router.url.query_parameters
        self.verify_message = {
            "expired": "That confirmation link has expired. Send a new one.",
            "other_account": "That confirmation link belongs to another account. Sign in with that address.",
            "invalid": "That confirmation link is not valid. Send a new one.",
        }.get(
            params.get("verify_error", ""),
            "Your email address is confirmed." if params.get("verified") else "",
        )

    @rx.event
    async def send_confirmation(self):
        def work(user, session):
            return user.email_verified, verification.confirmation_to_send(user)

        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        self.email_verified, confirm = result
        if confirm is None:
            if not self.email_verified:
                self.verify_message = "This server does not send email."
            return
        if await asyncio.to_thread(verification.send, *confirm):
            self.verify_message = (
                f"We sent a confirmation link to {confirm[0]}. Open it while signed in here."
            )
        else:
            self.verify_message = "The email could not be sent. Try again later."

    @rx.event
    async def save_key(self, form_data: dict):
        provider, raw = str(form_data.get("provider", "")), str(form_data.get("api_key", ""))

        def work(user, session):
            keys.set_key(user, provider, raw, session=session)
            return keys.summaries(user, session=session)

        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        self.api_keys = result
        return rx.toast.success("Key saved. Your requests use it now.")

    @rx.event
    async def delete_key(self, provider: str):
        def work(user, session):
            keys.delete_key(user, provider, session=session)
            return keys.summaries(user, session=session)

        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        self.api_keys = result
        return rx.toast.success("Key deleted.")

    # ----- use against the person's limits -------------------------------------------------------
    usage_limits: rx.Field[BudgetStanding] = rx.field(default_factory=budgets.empty_standing)

    @rx.event
    async def load_usage_limits(self):
        result = await self._act(lambda user, session: budgets.standing(user, session=session))
        if isinstance(result, Refused):
            return result.effect
        self.usage_limits = result
