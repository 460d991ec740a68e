"""Email through the operator's SMTP server: invitations and address confirmations.

Sending is blocking network I/O: callers run it off the event loop, after their transaction
has committed, so a slow or failing mail server never holds a database lock or loses data.
"""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
from email.message import EmailMessage

from chat_app.settings import get_settings

log = logging.getLogger(__name__)


def enabled() -> bool:
    return get_settings().smtp is not None


def send(to: str, subject: str, text: str, *, link: str | None = None) -> bool:
    """Send one message (plain text, plus HTML with a button for `link`). False when it failed."""
    smtp = get_settings().smtp
    if smtp is None:
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, to, subject
    message.set_content(text)
    if link:
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
        message.add_alternative(
            f'<html><body>{paragraphs}<p><a href="{html.escape(link, quote=True)}">Open it</a></p></body></html>',
            subtype="html",
        )
    try:
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=20, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=20)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password)
            client.send_message(message)
        return True
    except (OSError, smtplib.SMTPException):
        log.warning("could not send email to %s", to, exc_info=True)
        return False
