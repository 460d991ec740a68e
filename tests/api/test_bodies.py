"""Bodies read whole: the cap (MAX_BODY_KB) to the byte, the type they must declare, and what a
malformed one gets back."""

from __future__ import annotations

import json

import pytest

from chat_app import settings
from tests.support.factories import api_user
from tests.support.waiting import chat_in_flight, wait_for_reply

JSON = {"content-type": "application/json"}


@pytest.fixture
def capped(app_settings, monkeypatch):
    """The API with a cap of 1 KB, signed in."""
    monkeypatch.setenv("MAX_BODY_KB", "1")
    settings.get_settings.cache_clear()
    return settings.get_settings()


def _body_of(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    frame = b'{"model_id": ""}'
    return frame[:-2] + b"x" * (size - len(frame)) + frame[-2:]


def test_a_body_is_refused_one_byte_past_the_cap(api, capped):
    api_user(api)
    assert capped.max_body_bytes == 1024
    at_the_cap = api.post("/api/chats", content=_body_of(1024), headers=JSON)
    assert at_the_cap.status_code == 400 and at_the_cap.json()["error"] == "That model is not in the catalog."
    past_it = api.post("/api/chats", content=_body_of(1025), headers=JSON)
    assert past_it.status_code == 413 and past_it.json() == {
        "error": "The request body is larger than the 1 KB this server accepts.",
        "code": "too_large",
    }
    # A length that lies is no way around it: what arrives is counted, not what was declared.
    lying = api.post("/api/chats", content=_body_of(4096), headers={**JSON, "content-length": "10"})
    assert lying.status_code == 413
    form = {"content-type": "application/x-www-form-urlencoded"}
    signing_in = api.post("/api/auth/login", content=b"email=" + b"x" * 1100, headers=form)
    assert signing_in.status_code == 413


def test_the_longest_message_fits_the_default_cap_however_it_is_escaped(api, app_settings, fake_env):
    """32000 characters outside the BMP, each escaped to 12 bytes by Python's json.dumps."""
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    longest = json.dumps({"content": "😀" * app_settings.max_message_chars})
    assert len(longest) > 12 * app_settings.max_message_chars
    answer = api.post(f"/api/chats/{chat_id}/messages", content=longest, headers=JSON)
    assert answer.status_code == 202, answer.text
    wait_for_reply(chat_in_flight(api, chat_id))


def test_json_must_say_it_is_json(api):
    api_user(api)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None):
        headers = {"content-type": content_type} if content_type else {}
        refused = api.post("/api/chats", content=b'{"model_id": "openai/gpt-4o"}', headers=headers)
        assert refused.status_code == 415, content_type
        assert refused.json() == {
            "error": "Send the body as JSON, with the header Content-Type: application/json.",
            "code": "content_type",
        }
    with_charset = {"content-type": "Application/JSON; charset=utf-8"}
    made = api.post("/api/chats", content=b'{"model_id": "openai/gpt-4o"}', headers=with_charset)
    assert made.status_code == 201


def test_malformed_bodies_are_400_with_a_sentence(api):
    api_user(api)
    for content, error in [
        (b"[" * 100_000, "The request body is nested too deeply."),
        (b'{"a": ' + b"9" * 5000 + b"}", "The request body is not valid JSON."),  # past int's digit limit
        (b"\xff\xfe{", "The request body is not valid JSON."),
    ]:
        refused = api.post("/api/chats", content=content, headers=JSON)
        assert refused.status_code == 400 and refused.json()["error"] == error


def test_a_sign_in_form_is_urlencoded_with_few_fields(api):
    form = {"content-type": "application/x-www-form-urlencoded"}
    many = "&".join(f"f{n}=x" for n in range(51)).encode()
    refused = api.post("/api/auth/login", content=many, headers=form)
    assert refused.status_code == 400 and refused.json()["error"] == "A form has at most 50 fields."
    files = {"file": ("a.txt", b"hello", "text/plain")}
    multipart = api.post("/api/auth/register", data={"email": "m@example.com"}, files=files)
    assert multipart.status_code == 415 and multipart.json()["code"] == "content_type"
    # The form the sign-in page posts still signs in, percent-encoding and all.
    registered = api.post(
        "/api/auth/register",
        content=b"email=ren%C3%A9%2Bforms%40example.com&password=long+enough&next=%2Fsettings",
        headers=form,
        follow_redirects=False,
    )
    assert registered.status_code == 303 and registered.headers["location"] == "/settings"
    assert api.get("/api/me").json()["email"] == "rené+forms@example.com"
