"""Media kept in an S3-compatible store (a local S3 server): uploads, the access-checked file
route with ranges and signed links, generation outputs, copies and deletion."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from chat_app.services.storage import get_storage
from tests.fakes import media_samples as samples
from tests.services.test_generation import FLUX, _run
from tests.support.factories import api_user


def _upload(api, data: bytes, name: str, mime: str) -> dict:
    answer = api.post("/api/upload", files={"file": (name, data, mime)})
    assert answer.status_code == 201, answer.text
    (file,) = answer.json()["files"]
    return file


def test_an_upload_is_stored_in_the_bucket_and_served_through_our_route(api, s3_media, app_settings):
    s3, bucket = s3_media
    api_user(api)
    file = _upload(api, samples.jpeg_with_exif(), "cat.jpg", "image/jpeg")
    assert len(s3.keys(bucket)) == 2  # the picture and its preview
    served = api.get(file["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert "sandbox" in served.headers["content-security-policy"]
    assert Image.open(io.BytesIO(served.content)).size == (40, 80)
    assert api.get(file["thumb_url"]).headers["content-type"] == "image/jpeg"
    media_dir = Path(app_settings.media_dir)
    assert not [p for p in media_dir.rglob("*") if p.is_file()]  # only staged, never kept on disk


def test_a_video_is_served_by_ranges_for_seeking(api, s3_media):
    api_user(api)
    file = _upload(api, samples.mp4(), "clip.mp4", "video/mp4")
    whole = api.get(file["url"])
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    size = len(whole.content)
    assert int(whole.headers["content-length"]) == size
    part = api.get(file["url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == whole.content[100:200]
    tail = api.get(file["url"], headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == whole.content[-50:]
    open_ended = api.get(file["url"], headers={"Range": f"bytes={size - 10}-"})
    assert open_ended.content == whole.content[-10:]
    beyond = api.get(file["url"], headers={"Range": f"bytes={size}-{size + 10}"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"


def test_with_signed_links_the_route_checks_access_then_redirects_to_the_store(api, s3_media, configure):
    s3, bucket = s3_media
    configure(S3_SIGNED_URL_SECONDS="60")
    api_user(api)
    file = _upload(api, samples.png(), "cat.png", "image/png")
    answer = api.get(file["url"], follow_redirects=False)
    assert answer.status_code == 307 and answer.headers["cache-control"] == "private, no-store"
    link = answer.headers["location"]
    assert link.startswith(f"{s3.endpoint}/{bucket}/") and "X-Amz-Expires=60" in link
    api.cookies.clear()  # a stranger to the file is refused before any link is made
    assert api.get(file["url"], follow_redirects=False).status_code in (401, 404)


def test_copying_a_chat_copies_its_objects_and_deleting_removes_them(api, s3_media, fake_env):
    s3, bucket = s3_media
    api_user(api)
    file = _upload(api, samples.png(), "cat.png", "image/png")
    chat = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
    sent = api.post(
        f"/api/chats/{chat['id']}/messages",
        json={"content": "look [[tokens=2]]", "attachments": [file["id"]]},
    )
    assert sent.status_code == 202
    originals = s3.keys(bucket)
    copy = api.post(f"/api/chats/{chat['id']}/copy")
    assert copy.status_code == 201
    assert len(s3.keys(bucket)) == 2 * len(originals)
    assert api.delete(f"/api/chats/{chat['id']}").status_code == 204
    kept = s3.keys(bucket)
    assert len(kept) == len(originals) and not set(kept) & set(originals)
    copied_media = api.get(f"/api/chats/{copy.json()['id']}").json()["messages"][0]["media"][0]
    assert Image.open(io.BytesIO(api.get(copied_media["url"]).content)).format == "PNG"


async def test_a_generated_image_is_kept_in_the_bucket(engine, replicate_env, s3_media):
    s3, bucket = s3_media
    reply, files, _asked, _events = await _run(engine, "a red fox in snow", FLUX)
    assert reply.status == "complete", reply.error
    (image,) = files
    assert f"{image.storage_key}" in s3.keys(bucket)
    with get_storage().open(image.storage_key) as f, Image.open(io.BytesIO(f.read())) as picture:
        assert picture.format == "PNG"


def test_readiness_names_an_unreachable_bucket(api, s3_media, configure):
    assert api.get("/readyz").json()["checks"]["storage"] == "ok"
    configure(S3_BUCKET="no-such-bucket")
    probe = api.get("/readyz")
    assert probe.status_code == 503 and probe.json()["failing"] == ["storage"]
    assert probe.json()["checks"]["storage"].startswith("unreachable (ClientError")
