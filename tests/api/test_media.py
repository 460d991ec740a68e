"""Uploads over HTTP and the access-checked file route."""

from __future__ import annotations

import io

from PIL import Image

from tests.fakes import media_samples as samples
from tests.support.factories import api_user


def _upload(api, data: bytes, name="cat.png", mime="image/png"):
    return api.post("/api/upload", files={"file": (name, data, mime)})


def test_upload_then_send_then_read_back_with_media(api, fake_env):
    api_user(api)
    response = _upload(api, samples.jpeg_with_exif())
    assert response.status_code == 201, response.text
    (file,) = response.json()["files"]
    assert file["kind"] == "image" and file["mime_type"] == "image/jpeg"
    assert (file["width"], file["height"]) == (40, 80)
    assert file["url"] == f"/api/media/{file['id']}" and file["thumb_url"].endswith("/thumb")

    chat = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
    posted = api.post(
        f"/api/chats/{chat['id']}/messages",
        json={"content": "What is in this picture?", "attachments": [file["id"]]},
    )
    assert posted.status_code == 202, posted.text
    assert [m["id"] for m in posted.json()["message"]["media"]] == [file["id"]]

    messages = api.get(f"/api/chats/{chat['id']}").json()["messages"]
    assert messages[0]["media"][0] == {**file, "name": "cat.png"}

    served = api.get(file["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert Image.open(io.BytesIO(served.content)).size == (40, 80)
    thumb = api.get(file["thumb_url"])
    assert thumb.headers["content-type"] == "image/jpeg"


def test_videos_are_served_with_ranges_so_they_can_seek(api):
    api_user(api)
    (file,) = _upload(api, samples.mp4(), name="clip.mp4", mime="video/mp4").json()["files"]
    assert file["kind"] == "video" and file["duration"] > 0.5 and file["thumb_url"]
    whole = api.get(file["url"]).content
    part = api.get(file["url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    assert part.content == whole[100:200]
    assert part.headers["content-type"] == "video/mp4"


def test_bad_uploads_get_a_clear_400_and_store_nothing(api, app_settings):
    from pathlib import Path

    api_user(api)
    cases = [
        (samples.html_page(), "page.png", "image/png"),
        (samples.svg(), "x.svg", "image/svg+xml"),
        (samples.bomb_png(), "bomb.png", "image/png"),
        (samples.truncated_jpeg(), "cut.jpg", "image/jpeg"),
        (samples.png(), "../../secret.png", "image/png"),
        (b"", "empty.png", "image/png"),
    ]
    for data, name, mime in cases:
        response = _upload(api, data, name, mime)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"]
    media_dir = Path(app_settings.media_dir)
    assert not [p for p in media_dir.rglob("*") if p.is_file()]
    assert api.post("/api/upload", json={"file": "x"}).status_code == 400


def test_malformed_multipart_gets_a_400_not_a_500(api, app_settings):
    """A part whose header line is not a header (what the API's fuzz run sent)."""
    from pathlib import Path

    api_user(api)
    boundary = "a222103b9b30b1f9e8be6882ecedb1d2"
    body = f"--{boundary}\r\n[]--{boundary}--\r\n".encode()
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    response = api.post("/api/upload", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "This upload is not well-formed multipart/form-data."
    assert not [p for p in Path(app_settings.media_dir).rglob("*") if p.is_file()]


def test_several_files_in_one_upload(api):
    api_user(api)
    response = api.post(
        "/api/upload",
        files=[
            ("file", ("a.png", samples.png(), "image/png")),
            ("file", ("b.webm", samples.webm(), "video/webm")),
        ],
        data={"note": "ignored"},
    )
    assert response.status_code == 201, response.text
    assert [(f["name"], f["kind"]) for f in response.json()["files"]] == [
        ("a.png", "image"),
        ("b.webm", "video"),
    ]


def test_uploads_need_a_signed_in_user(api):
    assert _upload(api, samples.png()).status_code == 401


def test_one_users_media_is_not_found_for_another(api, fake_env):
    api_user(api)
    (file,) = _upload(api, samples.png()).json()["files"]
    chat = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
    api.post(f"/api/chats/{chat['id']}/messages", json={"content": "see", "attachments": [file["id"]]})
    owner_cookies = dict(api.cookies)

    api.cookies.clear()
    assert api.get(file["url"]).status_code == 404  # signed out
    api_user(api)  # someone else
    for url in (file["url"], file["thumb_url"], f"/api/chats/{chat['id']}"):
        assert api.get(url).status_code == 404
    # nor can they send the owner's upload as their own attachment
    (theirs,) = _upload(api, samples.png()).json()["files"]
    their_chat = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
    stolen = api.post(
        f"/api/chats/{their_chat['id']}/messages",
        json={"content": "mine now", "attachments": [file["id"], theirs["id"]]},
    )
    assert stolen.status_code == 400
    api.cookies.clear()
    api.cookies.update(owner_cookies)
    assert api.get(file["url"]).status_code == 200
