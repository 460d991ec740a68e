"""POST /api/import: the exported file as the body, each conversation a chat or a reason why not."""

import json

from tests.fakes import conversation_exports as exports
from tests.support.factories import api_user


def _post(api, content: bytes, kind: str = "application/json"):
    return api.post("/api/import", content=content, headers={"Content-Type": kind})


def test_an_export_becomes_chats_listed_with_what_failed(api):
    api_user(api)
    listed = [exports.chatgpt_conversation("Trip"), {"mapping": {}, "title": "Empty"}]
    answer = _post(api, json.dumps(listed).encode())
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert report["format"] == "ChatGPT"
    assert [(i["title"], i["messages"]) for i in report["imported"]] == [("Trip", 5)]  # both branches
    assert report["failed"] == [
        {
            "number": 2,
            "title": "Empty",
            "error": "This conversation does not say which of its branches is current.",
        }
    ]
    chat_id = report["imported"][0]["chat_id"]
    assert [c["id"] for c in api.get("/api/chats").json()] == [chat_id]
    messages = api.get(f"/api/chats/{chat_id}").json()["messages"]
    assert [m["content"] for m in messages][-1] == "And sunscreen: 22 °C."


def test_an_import_is_refused_whole_when_it_cannot_be_read(api, configure):
    assert _post(api, b"[]").status_code == 401
    api_user(api)
    configure(MAX_IMPORT_MB="0.001")  # about a kilobyte
    too_large = _post(api, json.dumps([exports.chatgpt_conversation()]).encode())
    assert too_large.status_code == 400 and too_large.json()["error"] == "Import files of at most 0.001 MB."
    configure(MAX_IMPORT_MB="200")
    for content, kind, error in (
        (b"[]", "text/plain", "Send the exported file as the body"),
        (b"", "application/json", "The file is empty."),
        (b"<html>", "application/json", "is not an export this app reads"),
    ):
        answer = _post(api, content, kind)
        assert answer.status_code == 400 and error in answer.json()["error"], (kind, answer.text)
    assert api.get("/api/chats").json() == []
