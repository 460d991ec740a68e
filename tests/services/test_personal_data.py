"""A person's data on request: `python -m chat_app.admin export-user` writes all of it to a zip,
`delete-user` removes it (what they wrote in someone else's chat stays there, unnamed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from chat_app import admin
from chat_app.db import session_scope
from chat_app.models import (
    ApiToken,
    AuthSession,
    Chat,
    ConversationSummary,
    MediaFile,
    Message,
    SharedAccess,
    User,
    UserApiKey,
)
from chat_app.services.storage import get_storage
from tests.fakes import media_samples as samples
from tests.support.factories import api_token, api_user
from tests.support.waiting import chat_in_flight, wait_for_reply

OWN_KEY = "sk-own-key-never-exported-1234"


@pytest.fixture
def two_people(api, fake_env):
    """Ann (an upload in her chat, her own key, an editor invited) and Bo, who wrote in Ann's chat."""
    bo = TestClient(api.app, base_url="http://testserver")
    with bo:
        ann_email, bo_email = api_user(api), api_user(bo)
        assert api.put("/api/keys/openai", json={"api_key": OWN_KEY}).status_code == 200
        (picture,) = api.post("/api/upload", files={"file": ("cat.png", samples.png(), "image/png")}).json()[
            "files"
        ]
        chat = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
        sent = {"content": "Ann's private words [[tokens=2]]", "attachments": [picture["id"]]}
        assert api.post(f"/api/chats/{chat['id']}/messages", json=sent).status_code == 202
        wait_for_reply(chat_in_flight(api, chat["id"]))
        view = api.post(
            "/api/share", json={"chat_id": chat["id"], "emails": [bo_email], "can_edit": True}
        ).json()
        invite = view["invites"][0]["invite_link"].rsplit("/", 1)[-1]
        assert bo.post(f"/api/invites/{invite}").status_code == 200
        said = {"content": "Bo adds a line [[tokens=2]]"}
        assert bo.post(f"/api/chats/{chat['id']}/messages", json=said).status_code == 202
        wait_for_reply(chat_in_flight(api, chat["id"]))
        yield ann_email, bo_email, chat["id"], picture


def _admin(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The command line, as the operator runs it, on the test's database and media (its env)."""
    return subprocess.run(
        [sys.executable, "-m", "chat_app.admin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=os.environ,
    )


def _admin_here(*args: str, capsys) -> tuple[int, str, str]:
    """The same command in this process (the settings the test configured): no start-up to pay."""
    code = admin.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_an_export_holds_everything_of_the_person_and_no_secret(two_people, api, tmp_path):
    ann, _bo, chat_id, picture = two_people
    token = api_token(api, "Ann's script")  # api is Ann's
    with session_scope() as session:  # a summary a model wrote of her chat's start
        first = session.exec(
            select(Message).where(Message.chat_id == uuid.UUID(chat_id), Message.seq == 1)
        ).one()
        session.add(
            ConversationSummary(
                message_id=first.id,
                chat_id=first.chat_id,
                depth=1,
                covered=1,
                content="Ann said hi.",
                model_id="m",
            )
        )
    target = tmp_path / "ann.zip"
    done = _admin("export-user", ann, "--to", str(target))
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        account = json.loads(archive.read("account.json"))
        chat = json.loads(archive.read(f"chats/{chat_id}.json"))
        files = json.loads(archive.read("files.json"))
        everything = b"".join(archive.read(n) for n in names)
        (file_entry,) = files
        picture_bytes = archive.read(file_entry["file"])
    assert account["email"] == ann and account["own_provider_keys"] == [
        {"provider": "openai", "ends_with": "1234"}
    ]
    (exported_token,) = account["api_tokens"]
    assert exported_token["name"] == "Ann's script" and exported_token["starts_with"] == token[:12]
    assert exported_token["revoked_at"] is None
    assert [m["content"] for m in chat["messages"]][:3] == [
        "Ann's private words [[tokens=2]]",
        "tok1 tok2",
        "Bo adds a line [[tokens=2]]",
    ]
    assert chat["messages"][0]["files"] == [file_entry["file"]] and file_entry["original_name"] == "cat.png"
    (summary,) = chat["summaries"]
    assert summary["content"] == "Ann said hi." and summary["through_message_id"] == chat["messages"][0]["id"]
    with get_storage().open(_stored_key(picture["id"])) as stored:
        assert picture_bytes == stored.read()
    assert OWN_KEY.encode() not in everything and b"argon2" not in everything  # no key, no password hash
    assert token.encode() not in everything
    assert b"share_token" not in everything


def test_an_export_names_what_they_wrote_in_others_chats(two_people, tmp_path, capsys):
    _ann, bo, chat_id, _picture = two_people
    assert _admin_here("export-user", bo, "--to", str(tmp_path / "bo.zip"), capsys=capsys)[0] == 0
    with zipfile.ZipFile(tmp_path / "bo.zip") as archive:
        written = json.loads(archive.read("written_in_chats_shared_with_me.json"))
        shared = json.loads(archive.read("chats_shared_with_me.json"))
        assert not [n for n in archive.namelist() if n.startswith("chats/")]  # Ann's chat is Ann's
    assert [(w["chat_id"], w["role"], w["content"]) for w in written] == [
        (chat_id, "user", "Bo adds a line [[tokens=2]]"),
        (chat_id, "assistant", "tok1 tok2"),  # the reply Bo asked for
    ]
    assert shared == [{"chat_id": chat_id, "title": shared[0]["title"], "can_edit": True, "joined": True}]


def test_deleting_a_person_removes_their_account_chats_and_files(two_people, api):
    ann, bo, chat_id, picture = two_people
    api_token(api, "Ann's script")  # api is Ann's
    key = _stored_key(picture["id"])
    refused = _admin("delete-user", ann, stdin="someone-else@example.com\n")
    assert refused.returncode == 1 and "Nothing was deleted" in refused.stdout
    done = _admin("delete-user", ann, "--yes")
    assert done.returncode == 0, done.stderr
    assert "1 chats" in done.stdout and "2 files" in done.stdout  # the picture and its preview
    with session_scope() as session:
        assert session.exec(select(User).where(User.email == ann)).first() is None
        assert session.get(Chat, _uuid(chat_id)) is None
        assert not session.exec(select(Message).where(Message.chat_id == _uuid(chat_id))).all()
        assert not session.exec(select(MediaFile).where(MediaFile.storage_key == key)).all()
        assert not session.exec(select(SharedAccess).where(SharedAccess.chat_id == _uuid(chat_id))).all()
        assert not session.exec(select(UserApiKey)).all()
        assert not session.exec(select(ApiToken)).all()
        bo_user = session.exec(select(User).where(User.email == bo)).one()
        assert session.exec(select(AuthSession).where(AuthSession.user_id == bo_user.id)).all()  # Bo stays
    assert not Path(get_storage().local_path(key) or "").exists()


def test_deleting_someone_who_wrote_in_anothers_chat_keeps_the_line_unnamed(two_people, api, capsys):
    ann, bo, chat_id, _picture = two_people
    assert _admin_here("delete-user", bo, "--yes", capsys=capsys)[0] == 0
    messages = api.get(f"/api/chats/{chat_id}").json()["messages"]
    assert "Bo adds a line [[tokens=2]]" in [m["content"] for m in messages]
    with session_scope() as session:
        line = session.exec(select(Message).where(Message.content == "Bo adds a line [[tokens=2]]")).one()
        assert line.author_id is None
        assert not session.exec(select(SharedAccess).where(SharedAccess.email == bo)).all()
    assert api.get("/api/share", params={"chat_id": chat_id}).json()["invites"] == []
    assert ann  # Ann's chat and account are untouched


def test_an_unknown_address_is_said_and_changes_nothing(two_people, capsys):
    code, _out, err = _admin_here("export-user", "nobody@example.com", capsys=capsys)
    assert code == 2 and "No account has the address nobody@example.com." in err


def _uuid(value: str):
    import uuid

    return uuid.UUID(value)


def _stored_key(media_id: str) -> str:
    with session_scope() as session:
        return session.get(MediaFile, _uuid(media_id)).storage_key
