"""The settings page: the person's usage totals, their own provider keys, where they are signed
in, and their password."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from chat_app.models import User
from chat_app.services import accounts, budgets, client_addresses, keys, mailer, usage, verification
from chat_app.services.accounts import SessionSummary
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
    sessions: rx.Field[list[SessionSummary]] = rx.field(default_factory=list)
    has_password: rx.Field[bool] = rx.field(False)  # an account made through a provider has none
    password_message: rx.Field[str] = rx.field("")

    def _client_address(self) -> str:
        """The address limits per client count against, by the API's rule (services/client_addresses)."""
        headers = self.router.headers.raw_headers
        peer = headers.get("asgi-scope-client") or self.router.session.client_ip
        return client_addresses.client_address(peer, headers.get("x-forwarded-for"))

    def _sessions_of(self) -> Callable[[User, Session], list[SessionSummary]]:
        """Work listing the person's sessions, this one marked."""
        token = self._session_token()
        return lambda user, session: accounts.sessions_of(user, session=session, current_token=token)

    @rx.event
    async def load_settings(self):
        sessions_of = self._sessions_of()
        result = await self._act(
            lambda user, session: (
                user.email,
                keys.summaries(user, session=session),
                usage.totals(user, session=session),
                user.email_verified,
                sessions_of(user, session),
                user.password_hash is not None,
            )
        )
        if isinstance(result, Refused):
            return result.effect
        self.user_email, self.api_keys, self.totals, self.email_verified, self.sessions, self.has_password = (
            result
        )
        self.password_message = ""
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
        client = self._client_address()

        def work(user, session):
            return user.email_verified, verification.confirmation_to_resend(user, client=client)

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

    @rx.event
    async def end_session(self, session_id: str):
        sessions_of = self._sessions_of()

        def work(user, session):
            accounts.end_session(user, session_id, session=session)
            return sessions_of(user, session)

        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        self.sessions = result
        return rx.toast.success("That session has ended.")

    @rx.event
    async def end_other_sessions(self):
        token, sessions_of = self._session_token(), self._sessions_of()

        def work(user, session):
            return accounts.end_other_sessions(user, token, session=session), sessions_of(user, session)

        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        ended, self.sessions = result
        return rx.toast.success(
            f"Signed out everywhere else ({ended} {'session' if ended == 1 else 'sessions'})."
        )

    @rx.event
    async def change_password(self, form_data: dict):
        current, new = str(form_data.get("current_password", "")), str(form_data.get("new_password", ""))
        token, client, sessions_of = self._session_token(), self._client_address(), self._sessions_of()

        def work(user, session):
            accounts.change_password(user, current, new, session=session, keep_token=token, client=client)
            return sessions_of(user, session)

        self.password_message = ""
        result = await self._act(work)
        if isinstance(result, Refused):
            return result.effect
        self.sessions = result
        self.password_message = "Your password is changed, and every other session is signed out."
