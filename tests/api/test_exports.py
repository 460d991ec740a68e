"""A chat, or all of one's chats, taken away: Markdown, JSON, and zips with the files."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.support.factories import api_user, chat_with_a_picture


def test_a_chat_as_markdown_to_read(api, fake_env):
    api_user(api)
    chat_id, _ = chat_with_a_picture(api)
    answer = api.get(f"/api/chats/{chat_id}/export")  # Markdown unless asked otherwise
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/markdown; charset=utf-8"
    assert answer.headers["content-disposition"].startswith('attachment; filename="What is in this picture')
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.text == (
        "# What is in this picture? [[tokens=3]]\n\n"
        "## You\n\nWhat is in this picture? [[tokens=3]]\n\n*Image: cat.png*\n\n"
        "## GPT-4o\n\ntok1 tok2 tok3\n"
    )


def test_a_chat_as_json_holds_every_message(api, fake_env):
    api_user(api)
    chat_id, file = chat_with_a_picture(api)
    answer = api.get(f"/api/chats/{chat_id}/export", params={"format": "json"})
    assert answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert (document["format"], document["version"], document["id"]) == ("chat-app/chat", 2, chat_id)
    user, reply = document["messages"]
    assert (user["parent_id"], reply["parent_id"], document["current_leaf_id"]) == (
        None,
        user["id"],
        reply["id"],
    )
    assert user["role"] == "user" and user["files"] == [
        {
            "file": f"files/{file['id']}.png",
            "kind": "image",
            "mime_type": "image/png",
            "byte_size": file["byte_size"],
            "original_name": "cat.png",
        }
    ]
    assert reply["role"] == "assistant" and reply["content"] == "tok1 tok2 tok3"
    assert reply["status"] == "complete" and reply["model_id"] == "openai/gpt-4o" and reply["cost"] > 0


def test_a_chat_as_a_zip_carries_its_files(api, fake_env):
    api_user(api)
    chat_id, file = chat_with_a_picture(api)
    answer = api.get(f"/api/chats/{chat_id}/export", params={"format": "zip"})
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert sorted(archive.namelist()) == ["chat.json", "chat.md", f"files/{file['id']}.png"]
    assert archive.read(f"files/{file['id']}.png") == api.get(file["url"]).content
    assert json.loads(archive.read("chat.json"))["id"] == chat_id


def test_all_of_ones_own_chats_in_one_zip(api, fake_env):
    api_user(api)
    first, _ = chat_with_a_picture(api, "Первый вопрос [[tokens=1]]")
    second, _ = chat_with_a_picture(api, "second / question? [[tokens=1]]")
    mine = api.cookies.get("chat_session")
    api.cookies.clear()
    api_user(api)
    api.post("/api/chats", json={"model_id": "openai/gpt-4o"})  # another person's chat stays out
    api.cookies.clear()
    api.cookies.set("chat_session", mine)
    answer = api.get("/api/export")
    assert answer.headers["content-disposition"].startswith('attachment; filename="chats.zip"')
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    documents = [json.loads(archive.read(n)) for n in archive.namelist() if n.endswith("/chat.json")]
    assert [d["id"] for d in documents] == [first, second]
    folders = {n.split("/")[0] for n in archive.namelist()}
    assert folders == {f"Первый вопрос tokens1 {first[:8]}", f"second  question tokens1 {second[:8]}"}
    assert len([n for n in archive.namelist() if "/files/" in n]) == 2


def test_a_chat_title_outside_ascii_names_the_download_both_ways(api, fake_env):
    api_user(api)
    chat_id, _ = chat_with_a_picture(api, "Café crème [[tokens=1]]")
    disposition = api.get(f"/api/chats/{chat_id}/export").headers["content-disposition"]
    assert disposition == (
        "attachment; filename=\"Caf_ cr_me tokens1.md\"; filename*=UTF-8''Caf%C3%A9%20cr%C3%A8me%20tokens1.md"
    )


@pytest.mark.parametrize("format", ["md", "json", "zip"])
def test_only_members_export_a_chat(api, fake_env, format):
    api_user(api)
    chat_id, _ = chat_with_a_picture(api)
    api.cookies.clear()
    assert api.get(f"/api/chats/{chat_id}/export", params={"format": format}).status_code == 401
    api_user(api)
    stranger = api.get(f"/api/chats/{chat_id}/export", params={"format": format})
    assert stranger.status_code == 404 and "tok1" not in stranger.text


def test_an_unknown_format_is_refused(api):
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    answer = api.get(f"/api/chats/{chat_id}/export", params={"format": "pdf"})
    assert answer.status_code == 400 and answer.json()["error"] == "Export as one of md, json, zip."
