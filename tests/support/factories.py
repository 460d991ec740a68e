"""Small factories: people and chats made through the services (or, for API tests, the API itself)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

import httpx
from sqlmodel import Session

from chat_app.models import Chat, Message, User
from chat_app.services import accounts, api_tokens, branches, chats
from tests.fakes import media_samples as samples
from tests.support.waiting import chat_in_flight, wait_for_reply


def make_user(session: Session, email: str | None = None, password: str = "correct horse") -> User:
    user = accounts.register(email or f"user-{uuid.uuid4().hex[:8]}@example.com", password, session=session)
    session.commit()
    return user


def make_chat(session: Session, owner: User, model_id: str = "openai/gpt-4o") -> Chat:
    chat = chats.create_chat(owner, session=session, model_id=model_id)
    session.commit()
    return chat


def write_conversation(session: Session, chat: Chat, texts: Sequence[str]) -> list[Message]:
    """Messages written straight into `chat` as the branch it shows (a person's, then a reply, and
    so on, from seq 1), added to the session but not committed: long chats made in a moment."""
    written = [
        Message(chat_id=chat.id, seq=n, role="user" if n % 2 else "assistant", content=text)
        for n, text in enumerate(texts, 1)
    ]
    branches.chain(chat, written)
    session.add_all([chat, *written])
    return written


def make_token(session: Session, owner: User, name: str = "tests") -> str:
    """A personal API token of `owner`'s (the token itself)."""
    token = api_tokens.create(owner, name, session=session)["token"]
    session.commit()
    return token


def api_user(client: httpx.Client, email: str | None = None, password: str = "correct horse") -> str:
    """Register through the API; the client keeps the session cookie. Returns the email."""
    email = email or f"api-{uuid.uuid4().hex[:8]}@example.com"
    response = client.post("/api/auth/register", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return email


def api_token(client: httpx.Client, name: str = "tests") -> str:
    """A personal API token made through the API by the person signed in on `client`."""
    response = client.post("/api/tokens", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["token"]


CONFIRMATION_LINK = re.compile(r"https?://[^/\s]+(/api/auth/verify/[A-Za-z0-9_.\-]+)")


def confirm_address(client: httpx.Client, smtp, email: str) -> None:
    """Confirm `email` (registered through `client` while email goes to the fake `smtp`) the way
    its owner does: by opening the link in the confirmation email, signed in."""
    texts = [smtp.text_of(m) for m in smtp.messages_to(email) if m["Subject"] == "Confirm your email address"]
    found = CONFIRMATION_LINK.search(texts[-1]) if texts else None
    assert found, f"no confirmation email reached {email}"
    response = client.get(found.group(1), follow_redirects=False)
    assert response.headers.get("location") == "/settings?verified=1", response.text


def chat_with_a_picture(api, question: str = "What is in this picture? [[tokens=3]]") -> tuple[str, dict]:
    """Through the API: a chat whose question carries a picture, its reply written (the chat's id, the file)."""
    uploaded = api.post("/api/upload", files={"file": ("cat.png", samples.png(), "image/png")})
    assert uploaded.status_code == 201, uploaded.text
    (file,) = uploaded.json()["files"]
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    posted = api.post(
        f"/api/chats/{chat_id}/messages", json={"content": question, "attachments": [file["id"]]}
    )
    assert posted.status_code == 202, posted.text
    wait_for_reply(chat_in_flight(api, chat_id))
    return chat_id, file
