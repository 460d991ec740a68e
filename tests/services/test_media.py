"""The media service: files judged by content, cleaned, stored, recorded and access-checked."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from chat_app.models import MediaFile
from chat_app.services import access, chats, media
from chat_app.services.errors import Invalid, NotFound
from chat_app.services.storage import LocalDiskStorage
from tests.fakes import media_samples as samples
from tests.support.factories import make_chat, make_user

LIMITS = media.Limits(image_bytes=2 * 1024 * 1024, video_bytes=4 * 1024 * 1024, image_pixels=25_000_000)


@pytest.fixture
def storage(tmp_path) -> LocalDiskStorage:
    return LocalDiskStorage(tmp_path / "media")


def _files_in(storage: LocalDiskStorage) -> list[Path]:
    return [p for p in storage.root.rglob("*") if p.is_file()]


def ingest(data: bytes, storage, name="file.bin", declared=None, chunk=7_000) -> media.Stored:
    intake = media.Intake(name, declared, limits=LIMITS, storage=storage)
    try:
        for start in range(0, len(data), chunk):
            intake.write(data[start : start + chunk])
    except BaseException:
        intake.discard()
        raise
    return intake.finish()


@pytest.mark.parametrize(
    ("data", "mime", "kind"),
    [
        (samples.png(), "image/png", "image"),
        (samples.jpeg(), "image/jpeg", "image"),
        (samples.webp(), "image/webp", "image"),
        (samples.gif(), "image/gif", "image"),
        (samples.mp4(), "video/mp4", "video"),
        (samples.webm(), "video/webm", "video"),
        (samples.mov(), "video/quicktime", "video"),
    ],
    ids=["png", "jpeg", "webp", "gif", "mp4", "webm", "mov"],
)
def test_every_accepted_type_is_stored_with_a_preview(storage, data, mime, kind):
    stored = ingest(data, storage, name="holiday.bin")  # the name says nothing; the content decides
    assert (stored.kind, stored.mime_type) == (kind, mime)
    assert stored.width and stored.height
    assert stored.original_name == "holiday.bin"
    assert stored.storage_key != "holiday.bin" and "holiday" not in stored.storage_key
    kept = storage.local_path(stored.storage_key)
    assert kept.stat().st_size == stored.byte_size
    assert stored.thumb_key is not None
    with Image.open(storage.local_path(stored.thumb_key)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 512
    if kind == "video":
        assert stored.duration == pytest.approx(1.0, abs=0.2)
    # nothing left behind in the staging folder
    assert not list((storage.root / ".incoming").iterdir())


def test_exif_and_gps_are_stripped_and_orientation_applied(storage):
    original = samples.jpeg_with_exif(width=80, height=40, orientation=6, gps=True)
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get(0x0112) == 6
    stored = ingest(original, storage)
    with Image.open(storage.local_path(stored.storage_key)) as after:
        exif = after.getexif()
        assert 0x0112 not in exif and 0x8825 not in exif  # no orientation tag, no GPS block
        assert after.size == (40, 80)  # turned upright
    assert (stored.width, stored.height) == (40, 80)


@pytest.mark.parametrize(
    ("data", "name", "declared", "says"),
    [
        (samples.bomb_png(), "bomb.png", "image/png", "pixels"),
        (samples.truncated_jpeg(), "cut.jpg", "image/jpeg", "damaged"),
        (samples.html_page(), "page.png", "image/png", "not a supported image or video"),
        (samples.svg(), "drawing.svg", "image/svg+xml", "not a supported image or video"),
        (samples.png(), "../../etc/passwd.png", "image/png", "folders"),
        (os.urandom(3 * 1024 * 1024), "big.png", "image/png", "not a supported"),
        (
            samples.png(800, 800) + b"\0" * (3 * 1024 * 1024),
            "big.png",
            "image/png",
            "larger than the 2 MB limit",
        ),
        (b"", "empty.png", "image/png", "empty"),
        (samples.png(), "photo.png", "text/html", "says it is text/html"),
        (samples.mp4(), "clip.mp4", "image/png", "says it is image/png"),
    ],
    ids=[
        "bomb",
        "truncated",
        "html-as-png",
        "svg",
        "path-traversal",
        "random-bytes",
        "oversized",
        "empty",
        "declared-html",
        "declared-image-for-video",
    ],
)
def test_bad_files_are_refused_with_a_sentence_and_nothing_written(storage, data, name, declared, says):
    with pytest.raises(Invalid) as refused:
        ingest(data, storage, name=name, declared=declared)
    assert says in str(refused.value)
    assert _files_in(storage) == []


def test_an_oversized_upload_is_refused_while_it_streams(storage):
    intake = media.Intake("big.png", None, limits=LIMITS, storage=storage)
    intake.write(samples.png())
    with pytest.raises(Invalid, match="larger than"):
        for _ in range(10):
            intake.write(b"\0" * (512 * 1024))
    intake.discard()
    assert _files_in(storage) == []


def test_a_bomb_is_refused_from_its_header_before_decoding(storage):
    # 30,000² pixels would take ~900 MB decoded; refusal must come from the header alone
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(Invalid):
        ingest(samples.bomb_png(), storage)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def _upload(owner, session) -> MediaFile:
    intake = media.Intake("cat.png", "image/png")
    intake.write(samples.png())
    row = media.record(intake.finish(), owner_id=owner.id, session=session)
    session.commit()
    return row


def test_unsent_uploads_are_their_owners_alone_then_follow_the_chat(session, app_settings, fake_env):
    owner, other = make_user(session), make_user(session)
    row = _upload(owner, session)
    assert access.authorize_media(owner, row.id, session=session).id == row.id
    for stranger in (other, None):
        with pytest.raises(NotFound):
            access.authorize_media(stranger, row.id, session=session)
    with pytest.raises(Invalid):
        media.pending_uploads(other, [str(row.id)], session=session)  # not theirs to send

    chat = make_chat(session, owner)
    session.commit()
    mine, _ = chats.post_message(
        owner,
        chat.id,
        "what is this?",
        session=session,
        model_id="openai/gpt-4o",
        attachment_ids=[str(row.id)],
    )
    session.commit()
    session.refresh(row)
    assert (row.chat_id, row.message_id) == (chat.id, mine.id)
    with pytest.raises(NotFound):
        access.authorize_media(other, row.id, session=session)
    with pytest.raises(Invalid, match="already sent"):
        media.pending_uploads(owner, [str(row.id)], session=session)


def test_models_without_vision_refuse_images(session, app_settings, fake_env, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_fake_token")
    owner = make_user(session)
    chat = make_chat(session, owner)
    row = _upload(owner, session)
    for model_id, says in [
        ("deepseek/deepseek-chat", "cannot see images"),
        ("replicate/stability-ai/sdxl", "does not take attachments"),
    ]:
        with pytest.raises(Invalid, match=says):
            chats.post_message(
                owner, chat.id, "look", session=session, model_id=model_id, attachment_ids=[str(row.id)]
            )
    assert session.get(MediaFile, row.id).message_id is None


def test_deleting_a_chat_removes_its_files(session, app_settings, fake_env):
    from chat_app.services.storage import get_storage

    owner = make_user(session)
    chat = make_chat(session, owner)
    row = _upload(owner, session)
    chats.post_message(
        owner, chat.id, "see", session=session, model_id="openai/gpt-4o", attachment_ids=[str(row.id)]
    )
    session.commit()
    path = get_storage().local_path(row.storage_key)
    assert path.exists()
    chats.delete_chat(owner, chat.id, session=session)
    session.commit()
    assert not path.exists()


def test_uploads_never_sent_are_swept_a_day_later(session, app_settings):
    from datetime import timedelta

    from chat_app.models import utcnow
    from chat_app.services.storage import get_storage

    owner = make_user(session)
    old = _upload(owner, session)
    old.created_at = utcnow() - timedelta(days=2)
    session.add(old)
    session.commit()
    old_path = get_storage().local_path(old.storage_key)
    fresh = _upload(owner, session)  # the next upload sweeps the abandoned one
    assert session.get(MediaFile, old.id) is None and not old_path.exists()
    assert session.get(MediaFile, fresh.id) is not None


def _tkhd_matrix(data: bytes) -> tuple[int, ...]:
    """The display matrix of the first track (where MP4 keeps a video's rotation)."""
    import struct

    at = data.find(b"tkhd")
    version_size = 20 if data[at + 4] == 0 else 32
    offset = at + 4 + 4 + version_size + 8 + 8
    return struct.unpack(">9i", data[offset : offset + 36])


def test_videos_lose_their_place_and_device_metadata_but_keep_their_rotation(storage):
    import av

    original = samples.mp4_with_location(rotation=90)
    with av.open(io.BytesIO(original)) as before:
        assert before.metadata.get("location") and before.metadata.get("title")
    stored = ingest(original, storage, name="IMG_0001.mp4")
    kept = storage.local_path(stored.storage_key).read_bytes()
    with av.open(io.BytesIO(kept)) as after:
        assert "location" not in after.metadata and "title" not in after.metadata
        assert next(after.decode(video=0)).width == 64  # still a playable video
    assert _tkhd_matrix(kept) == _tkhd_matrix(original) != _tkhd_matrix(samples.mp4())
    assert kept.find(b"moov") < kept.find(b"mdat")  # index first: playback starts before the download ends
    assert stored.sha256 == __import__("hashlib").sha256(kept).hexdigest()


def test_a_video_that_cannot_be_rewritten_without_metadata_is_refused(storage):
    import av

    holding_h264 = samples.webm_holding_h264()
    with av.open(io.BytesIO(holding_h264)) as readable:  # FFmpeg reads it and decodes its frames
        assert next(readable.decode(video=0)).width == 64
    with pytest.raises(Invalid, match="could not be rewritten without its place and device details"):
        ingest(holding_h264, storage, name="clip.webm")
    assert _files_in(storage) == []


def _aged(row: MediaFile, session, days: float) -> MediaFile:
    from datetime import timedelta

    from chat_app.models import utcnow

    row.created_at = utcnow() - timedelta(days=days)
    session.add(row)
    session.commit()
    return row


def test_everyones_unsent_uploads_are_swept_once_a_day_old_and_sent_ones_never(
    session, app_settings, fake_env
):
    from chat_app.services.storage import get_storage

    alice, bob = make_user(session), make_user(session)
    stale, fresh, sent = (
        [_upload(alice, session), _upload(bob, session)],
        _upload(bob, session),
        _upload(alice, session),
    )
    chat = make_chat(session, alice)
    chats.post_message(
        alice, chat.id, "see", session=session, model_id="openai/gpt-4o", attachment_ids=[str(sent.id)]
    )
    session.commit()
    for row, days in [(stale[0], 2), (stale[1], 1.5), (sent, 30)]:  # (made before the next upload sweeps)
        _aged(row, session, days)
    paths = [get_storage().local_path(row.storage_key) for row in stale]

    assert media.sweep_unsent(session=session) == 2
    session.commit()
    assert [session.get(MediaFile, row.id) for row in stale] == [None, None]
    assert not any(p.exists() for p in paths)
    assert session.get(MediaFile, fresh.id) is not None and session.get(MediaFile, sent.id) is not None
    assert media.sweep_unsent(session=session) == 0  # a second sweep (another worker) finds nothing


def test_a_sweep_of_a_large_backlog_goes_in_pieces(session, app_settings, monkeypatch):
    from datetime import timedelta

    from chat_app.models import utcnow
    from chat_app.services.media import records

    monkeypatch.setattr(records, "SWEPT_AT_ONCE", 2)
    owner = make_user(session)
    for _ in range(5):
        _upload(owner, session)
    assert media.sweep_unsent(session=session, now=utcnow() + timedelta(days=2)) == 5
    session.commit()
    assert session.exec(select(MediaFile)).all() == []


def test_storage_is_counted_per_owner_and_checked_again_as_uploads_are_saved(session, app_settings):
    alice, bob = make_user(session), make_user(session)
    first = _upload(alice, session)
    _upload(bob, session)
    assert media.stored_bytes(alice.id, session=session) == first.byte_size
    intake = media.Intake("cat.png", "image/png")
    intake.write(samples.png())
    stored = intake.finish()
    tight = media.Limits(quota_bytes=first.byte_size + stored.byte_size - 1)
    with pytest.raises(Invalid, match="past your"):
        media.record_uploads([stored], owner_id=alice.id, session=session, limits=tight)
    roomy = media.Limits(quota_bytes=first.byte_size + stored.byte_size)
    (row,) = media.record_uploads([stored], owner_id=alice.id, session=session, limits=roomy)
    assert row.owner_id == alice.id and row.message_id is None
