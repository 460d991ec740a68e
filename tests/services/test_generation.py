"""Image and video generation through the real Replicate client against the local fake."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from PIL import Image
from sqlmodel import Session, select

from chat_app.models import MediaFile, Message
from chat_app.services import chats, generation, replies
from chat_app.services.storage import get_storage
from tests.support.factories import make_chat, make_user
from tests.support.live import live_events
from tests.support.waiting import wait_for_reply_job, wait_until

FLUX = "replicate/black-forest-labs/flux-schnell"  # an official model: model predictions
SDXL = "replicate/stability-ai/sdxl"  # a community model pinned to a version
ZEROSCOPE = "replicate/anotherjesse/zeroscope-v2-xl"


def _post(engine, text: str, model_id: str):
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user, model_id=model_id)
        mine, reply = chats.post_message(user, chat.id, text, session=session)
        session.commit()
        return str(chat.id), str(mine.id), str(reply.id)


async def _run(engine, text: str, model_id: str, *, during=None):
    chat_id, asked_id, reply_id = _post(engine, text, model_id)
    async with live_events(chat_id) as events:
        replies.start_reply(chat_id, reply_id, engine=engine)
        if during is not None:
            await during(chat_id, events)
        await wait_for_reply_job(reply_id)
    with Session(engine) as session:
        reply = session.get(Message, uuid.UUID(reply_id))
        files = session.exec(select(MediaFile).where(MediaFile.message_id == reply.id)).all()
        asked = session.get(Message, uuid.UUID(asked_id))
        return reply, list(files), asked, events


async def test_an_image_is_generated_with_progress_and_kept_in_our_storage(engine, replicate_env):
    # processing long enough for polls every 0.1 s to see it on a loaded machine
    reply, files, asked, events = await _run(engine, "a red fox in snow [[duration=1.5]]", FLUX)
    assert reply.status == "complete", reply.error
    (image,) = files
    assert image.kind == "image" and image.mime_type == "image/png" and image.chat_id == reply.chat_id
    with Image.open(get_storage().local_path(image.storage_key)) as picture:
        assert picture.format == "PNG"
    assert reply.cost == pytest.approx(0.003)  # the catalog's per-image price
    assert "replicate" not in reply.content and "http" not in reply.content
    progress = [e for e in events if e["type"] == "progress"]
    assert {"starting", "processing", "downloading"} <= {e["status"] for e in progress}
    assert any(
        e["percent"] is not None and 0 < e["percent"] < 100 for e in progress if e["status"] == "processing"
    )
    created = [r for r in replicate_env.requests if r["method"] == "POST"]
    assert created[0]["path"] == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert created[0]["json"]["input"]["prompt"].startswith("a red fox in snow")
    assert created[0]["headers"]["authorization"] == "Bearer r8_fake_token"
    assert replicate_env.downloads  # the output was fetched once, into our storage


async def test_a_version_pinned_video_model_makes_a_playable_video(engine, replicate_env):
    reply, files, _, _ = await _run(engine, "waves at dusk [[duration=0.4]]", ZEROSCOPE)
    assert reply.status == "complete", reply.error
    (video,) = files
    assert video.kind == "video" and video.mime_type == "video/mp4"
    assert video.duration and video.duration > 0.5 and video.thumb_key
    created = next(r for r in replicate_env.requests if r["method"] == "POST")
    assert created["path"] == "/v1/predictions" and len(created["json"]["version"]) == 64


async def test_several_outputs_are_all_kept(engine, replicate_env):
    reply, files, _, _ = await _run(engine, "three cats [[outputs=3]] [[duration=0.3]]", SDXL)
    assert reply.status == "complete" and len(files) == 3
    assert reply.cost == pytest.approx(3 * 0.0048)


@pytest.mark.parametrize(
    ("prompt", "says"),
    [
        ("boom [[fail]] [[duration=0.2]]", "failed: "),
        ("page [[html]] [[duration=0.2]]", "refused"),
        ("nope [[create_error=422]]", "did not accept"),
        ("slow down [[create_error=429]]", "rate-limiting"),
    ],
    ids=["model-fails", "output-not-media", "invalid-input", "rate-limited"],
)
async def test_failures_end_inline_with_a_sentence_and_keep_the_chat(engine, replicate_env, prompt, says):
    reply, files, asked, _ = await _run(engine, prompt, FLUX)
    assert reply.status == "error" and says in reply.error
    assert files == [] and asked.content == prompt  # what was asked is still there, ready to retry
    assert not [p for p in get_storage().root.rglob("*") if p.is_file() and ".incoming" not in str(p)]


async def test_a_bad_token_says_so(engine, replicate_env, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_bad")
    reply, _, _, _ = await _run(engine, "a cat", FLUX)
    assert reply.status == "error" and "token" in reply.error


async def test_cancel_stops_the_prediction_upstream(engine, replicate_env):
    async def cancel_when_processing(chat_id, events):
        def processing() -> bool:
            return any(e["type"] == "progress" and e["status"] == "processing" for e in events)

        await asyncio.to_thread(wait_until, processing, what="progress while processing")
        assert await replies.stop_in_chat(chat_id, engine=engine)

    reply, files, _, _ = await _run(engine, "forever [[hang]]", FLUX, during=cancel_when_processing)
    assert reply.status == "stopped" and files == []
    cancels = [r for r in replicate_env.requests if r["path"].endswith("/cancel")]
    assert len(cancels) == 1
    (prediction,) = replicate_env.predictions.values()
    assert prediction["status"] == "canceled"


async def test_a_generation_past_its_deadline_is_cancelled(engine, replicate_env, monkeypatch):
    from chat_app import settings

    monkeypatch.setenv("GENERATION_TIMEOUT", "0.5")
    settings.get_settings.cache_clear()
    reply, _, _, _ = await _run(engine, "forever [[hang]]", FLUX)
    assert reply.status == "error" and "longer than" in reply.error
    (prediction,) = replicate_env.predictions.values()
    assert prediction["status"] == "canceled"


async def test_regenerating_a_picture_makes_a_new_version_and_keeps_the_old_one(engine, replicate_env):
    reply, files, _, _ = await _run(engine, "a boat [[duration=0.2]]", FLUX)
    old_path = get_storage().local_path(files[0].storage_key)
    with Session(engine, expire_on_commit=False) as session:
        owner = session.get(Message, reply.id).author_id
        from chat_app.models import User

        user = session.get(User, owner)
        again = chats.regenerate_reply(user, reply.chat_id, session=session)
        session.commit()
    assert again.id != reply.id and old_path.exists()
    replies.start_reply(str(reply.chat_id), str(again.id), engine=engine)
    await wait_for_reply_job(again.id)
    with Session(engine) as session:
        made = session.exec(select(MediaFile).where(MediaFile.message_id == again.id)).all()
        kept = session.exec(select(MediaFile).where(MediaFile.message_id == reply.id)).all()
        assert len(made) == 1 and [f.id for f in kept] == [files[0].id]


def test_percent_is_read_from_tqdm_logs():
    assert generation.percent_from_logs("  0%|   | 0/50\n 40%|████  | 20/50 [00:01<00:01]") == 40
    assert generation.percent_from_logs("loading weights") is None
    assert generation.percent_from_logs(None) is None


async def test_a_persons_own_replicate_key_pays_for_their_generation(engine, replicate_env, monkeypatch):
    from chat_app.services import keys

    monkeypatch.delenv("REPLICATE_API_TOKEN")
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        keys.set_key(user, "replicate", "r8_my_own_token", session=session)
        session.commit()
        chat = make_chat(session, user, model_id=FLUX)
        _, reply = chats.post_message(user, chat.id, "a kite [[duration=0.2]]", session=session)
        session.commit()
    replies.start_reply(str(chat.id), str(reply.id), engine=engine)
    await wait_for_reply_job(reply.id)
    with Session(engine) as session:
        assert session.get(Message, reply.id).status == "complete"
    created = next(r for r in replicate_env.requests if r["method"] == "POST")
    assert created["headers"]["authorization"] == "Bearer r8_my_own_token"
