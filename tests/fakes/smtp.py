"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives, parsed."""

from __future__ import annotations

import email
import email.policy
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.app_server import free_port


class _Keep:
    def __init__(self, inbox: list[EmailMessage]):
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.inbox.append(message)
        return "250 Message accepted for delivery"


class FakeSmtp:
    """``with FakeSmtp() as smtp:`` then point SMTP_HOST/SMTP_PORT at ``smtp.env()``."""

    def __init__(self):
        self.inbox: list[EmailMessage] = []
        self.port = free_port()
        self._controller = Controller(_Keep(self.inbox), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> FakeSmtp:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    def env(self) -> dict[str, str]:
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.port),
            "SMTP_SECURITY": "none",
            "SMTP_FROM": "Chat App <no-reply@chat.example>",
        }

    def messages_to(self, address: str, timeout: float = 10.0) -> list[EmailMessage]:
        """Messages delivered to `address`, waiting up to `timeout` for the first one."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.inbox if address in m["X-Envelope-To"]]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()
