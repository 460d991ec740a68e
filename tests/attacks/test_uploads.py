"""Attacks on uploads, through the HTTP API: each costs the server little and stores nothing."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
from PIL import Image

from chat_app import settings
from chat_app.models import utcnow
from chat_app.services import runtime
from tests.fakes import media_samples as samples
from tests.support.factories import api_user
from tests.support.resources import memory_rise, open_files

BOUNDARY = "attack-boundary-7c1f"


def _stored_files(app_settings) -> list[Path]:
    return [p for p in Path(app_settings.media_dir).rglob("*") if p.is_file()]


def _set(monkeypatch, **variables: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings.get_settings.cache_clear()


def _part(name: str, data: bytes, mime: str = "image/png") -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
    return (head + f"Content-Type: {mime}\r\n\r\n").encode() + data + b"\r\n"


def _closing() -> bytes:
    return f"--{BOUNDARY}--\r\n".encode()


async def _register(client: httpx.AsyncClient) -> None:
    email = f"attacker-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post("/api/auth/register", json={"email": email, "password": "correct horse"})
    assert response.status_code == 200, response.text


def _client() -> httpx.AsyncClient:
    """The app in this process, its request bodies read only as it asks for them."""
    from chat_app.api.app import make_api

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=make_api()), base_url="http://testserver")


def test_an_animated_gif_bomb_is_refused_at_once(api, app_settings):
    api_user(api)
    bomb = samples.gif_bomb(frames=60, side=1500)  # 218 KB; every frame decoded, 135 million pixels
    assert len(bomb) < 300_000
    with memory_rise() as rise:
        started = time.monotonic()
        response = api.post("/api/upload", files={"file": ("party.gif", bomb, "image/gif")})
        elapsed = time.monotonic() - started
    assert response.status_code == 400, response.text
    assert "60 frames of 1,500×1,500 pixels" in response.json()["error"]
    assert elapsed < 2.0
    assert rise.peak < 40 * 1024 * 1024  # decoding it took +187 MB
    assert _stored_files(app_settings) == []

    # An animation of ordinary size is kept, and still moves.
    small = api.post("/api/upload", files={"file": ("wave.gif", samples.gif(frames=3), "image/gif")})
    assert small.status_code == 201, small.text
    (file,) = small.json()["files"]
    with Image.open(io.BytesIO(api.get(file["url"]).content)) as kept:
        assert (kept.format, kept.n_frames) == ("GIF", 3)


async def test_two_thousand_tiny_parts_are_refused_after_the_limit_with_one_file_open(app_settings):
    staging = Path(app_settings.media_dir) / ".incoming"
    tiny = samples.png(2, 2)
    seen = {"parts": 0, "most_open": 0}

    async def body() -> AsyncIterator[bytes]:
        for i in range(2000):
            # Pulled by the server as it reads: what it holds open between two parts.
            held = len(list(staging.glob("up-*"))) if staging.exists() else 0
            seen["most_open"] = max(seen["most_open"], held)
            seen["parts"] += 1
            yield _part(f"dot-{i}.png", tiny)
        yield _closing()

    async with _client() as client:
        await _register(client)
        files_before = open_files()
        response = await client.post(
            "/api/upload",
            content=body(),
            headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
        files_after = open_files()
    assert seen["most_open"] <= 1, seen  # each file closed as its part ended (it was 10, all to the end)
    assert seen["parts"] <= 11  # refused on the eleventh: the other 1,989 parts were never read
    assert response.status_code == 400, response.text
    assert "Attach at most 10 files at once: dot-10.png not taken." in response.json()["error"]
    assert files_after <= files_before
    assert _stored_files(app_settings) == []  # the ten that passed went with the refused request


async def test_an_upload_over_the_request_limit_is_refused_with_or_without_its_length(
    app_settings, monkeypatch
):
    _set(monkeypatch, MAX_UPLOAD_MB="1")
    picture = samples.noise_png()  # 0.6 MB: two of them are over the 1 MB a request may carry
    assert 500_000 < len(picture) < 1024 * 1024
    sent = {"chunks": 0}

    async def unmeasured() -> AsyncIterator[bytes]:
        for i in range(20):
            sent["chunks"] += 1
            yield _part(f"noise-{i}.png", picture)
        yield _closing()

    async with _client() as client:
        await _register(client)
        declared = await client.post(
            "/api/upload",
            files=[("file", ("a.png", picture, "image/png")), ("file", ("b.png", picture, "image/png"))],
        )
        streamed = await client.post(
            "/api/upload",
            content=unmeasured(),
            headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    for response in (declared, streamed):
        assert response.status_code == 400, response.text
        assert "more than the 1 MB one upload may carry" in response.json()["error"]
    assert sent["chunks"] <= 3  # reading stopped at the limit, not at the end
    assert _stored_files(app_settings) == []


def test_uploads_past_the_storage_quota_are_refused(api, app_settings, monkeypatch):
    _set(monkeypatch, STORAGE_QUOTA_MB="1")
    api_user(api)
    first = api.post("/api/upload", files={"file": ("a.png", samples.noise_png(seed=1), "image/png")})
    assert first.status_code == 201, first.text
    second = api.post("/api/upload", files={"file": ("b.png", samples.noise_png(seed=2), "image/png")})
    assert second.status_code == 400, second.text
    assert second.json()["error"] == (
        "b.png: This would take you past your 1 MB of storage (0.4 MB left). "
        "Delete chats you no longer need to make room."
    )
    assert len(_stored_files(app_settings)) == 2  # the first file and its preview, nothing more
    # Someone else has their own room.
    api.cookies.clear()
    api_user(api)
    assert api.post(
        "/api/upload", files={"file": ("c.png", samples.noise_png(seed=2), "image/png")}
    ).is_success


def test_a_stale_unsent_upload_of_another_person_is_swept_by_the_timer(api, app_settings):
    api_user(api)
    (abandoned,) = api.post("/api/upload", files={"file": ("left.png", samples.png(), "image/png")}).json()[
        "files"
    ]
    abandoner = dict(api.cookies)
    abandoned_files = _stored_files(app_settings)
    assert len(abandoned_files) == 2

    api.cookies.clear()
    api_user(api)  # someone else, who never uploads again
    (fresh,) = api.post("/api/upload", files={"file": ("new.png", samples.png(), "image/png")}).json()[
        "files"
    ]

    assert runtime.sweep_unsent_uploads(now=utcnow()) == 0  # nothing is a day old yet
    assert runtime.sweep_unsent_uploads(now=utcnow() + timedelta(days=1, minutes=1)) == 2
    assert not any(p.exists() for p in abandoned_files)
    assert _stored_files(app_settings) == []
    assert api.get(fresh["url"]).status_code == 404
    api.cookies.clear()
    api.cookies.update(abandoner)
    assert api.get(abandoned["url"]).status_code == 404
    assert runtime.sweep_unsent_uploads(now=utcnow() + timedelta(days=2)) == 0  # a second sweep finds none


def test_a_video_that_cannot_be_remuxed_is_refused_not_kept_with_its_metadata(api, app_settings):
    api_user(api)
    response = api.post(
        "/api/upload", files={"file": ("clip.webm", samples.webm_holding_h264(), "video/webm")}
    )
    assert response.status_code == 400, response.text
    assert "could not be rewritten without its place and device details" in response.json()["error"]
    assert _stored_files(app_settings) == []
