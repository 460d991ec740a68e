"""The app's log as JSON lines (LOG_FORMAT=json): ids, names and numbers for a collector, never
what people wrote, their keys or their links."""

from __future__ import annotations

import json
import logging

import pytest
from sqlmodel import select

from chat_app import logs
from chat_app.db import session_scope
from chat_app.models import User
from tests.support.factories import api_user
from tests.support.waiting import chat_in_flight, wait_for_reply


@pytest.fixture
def json_log(capsys):
    """The app's loggers writing JSON lines to the captured stderr; the lines written so far."""
    logs.configure("json", "info")
    capsys.readouterr()
    yield lambda: [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    logger = logging.getLogger("chat_app")
    logger.handlers, logger.propagate = [], True
    logger.setLevel(logging.NOTSET)


def test_a_line_is_one_json_object_with_its_fields_and_exception(json_log):
    try:
        raise RuntimeError("the provider broke")
    except RuntimeError:
        logging.getLogger("chat_app.services.test").exception(
            "reply failed", extra={"reply_id": "r-1", "provider": "openai", "duration_ms": 12.5}
        )
    (line,) = json_log()
    assert line["level"] == "error" and line["logger"] == "chat_app.services.test"
    assert line["message"] == "reply failed" and line["time"].endswith("+00:00")
    assert (line["reply_id"], line["provider"], line["duration_ms"]) == ("r-1", "openai", 12.5)
    assert "RuntimeError: the provider broke" in line["exception"]


def test_requests_and_replies_are_logged_without_what_people_wrote(api, fake_env, json_log, configure):
    configure(OPENAI_API_KEY="sk-secret-key-for-the-log-test")
    email = api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    posted = api.post(
        f"/api/chats/{chat_id}/messages",
        json={"content": "my private question [[tokens=2]]"},
        headers={"X-Request-ID": "from-the-proxy-1"},
    )
    assert posted.headers["x-request-id"] == "from-the-proxy-1"
    wait_for_reply(chat_in_flight(api, chat_id))
    share = api.patch("/api/share", json={"chat_id": chat_id, "is_public": True}).json()
    token = share["link"].rsplit("/", 1)[-1]
    api.get(f"/api/shared/{token}")
    assert api.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"] != (
        "bad id with spaces"
    )
    lines = json_log()
    requests = [line for line in lines if line["message"] == "request"]
    (post,) = [r for r in requests if r["request_id"] == "from-the-proxy-1"]
    assert post["method"] == "POST" and post["path"] == "/api/chats/{chat_id}/messages"
    assert post["status"] == 202 and post["duration_ms"] >= 0
    with session_scope() as session:
        assert post["user_id"] == str(session.exec(select(User).where(User.email == email)).one().id)
    assert any(r["path"] == "/api/shared/{token}" for r in requests)
    (reply,) = [line for line in lines if line["message"] == "reply finished"]
    assert reply["chat_id"] == chat_id and reply["provider"] == "openai" and reply["kind"] == "text"
    assert reply["status"] == "complete" and reply["output_tokens"] == 2 and reply["first_token_ms"] >= 0
    written = json.dumps(lines)
    for secret in ("my private question", "tok1", "sk-secret-key-for-the-log-test", token):
        assert secret not in written
