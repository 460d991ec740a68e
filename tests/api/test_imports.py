"""POST /api/import: the exported file as the body, each conversation a chat or a reason why not."""

import io
import json
import zipfile
from pathlib import Path

from tests.fakes import conversation_exports as exports
from tests.support.factories import api_user, chat_with_a_picture


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


def test_our_zip_brings_its_pictures_back_judged_and_stored_anew(api, fake_env):
    api_user(api)
    chat_id, file = chat_with_a_picture(api)
    exported = api.get(f"/api/chats/{chat_id}/export", params={"format": "zip"})
    answer = _post(api, exported.content, "application/zip")
    assert answer.status_code == 201, answer.text
    (imported,) = answer.json()["imported"]
    question = api.get(f"/api/chats/{imported['chat_id']}").json()["messages"][0]
    (picture,) = question["media"]
    assert picture["id"] != file["id"] and picture["name"] == "cat.png"
    assert (picture["kind"], picture["mime_type"], picture["width"], picture["height"]) == (
        "image",
        file["mime_type"],
        file["width"],
        file["height"],
    )
    again = api.get(picture["url"])
    assert again.status_code == 200 and again.content == api.get(file["url"]).content


def test_a_zip_whose_file_is_not_what_it_says_imports_nothing_of_that_chat(api, fake_env, app_settings):
    api_user(api)
    chat_id, _file = chat_with_a_picture(api)
    exported = zipfile.ZipFile(
        io.BytesIO(api.get(f"/api/chats/{chat_id}/export", params={"format": "zip"}).content)
    )
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as archive:
        for item in exported.infolist():
            data = exported.read(item)
            archive.writestr(
                item, b"#!/bin/sh\necho not a picture\n" if item.filename.startswith("files/") else data
            )
    media = Path(app_settings.media_dir)
    stored_before = sorted(p.name for p in media.rglob("*") if p.is_file())
    answer = _post(api, forged.getvalue(), "application/zip")
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("cat.png: This file is not a supported image or video.")
    assert [c["id"] for c in api.get("/api/chats").json()] == [chat_id]
    assert sorted(p.name for p in media.rglob("*") if p.is_file()) == stored_before
