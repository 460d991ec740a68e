"""Attachments reach vision models in each provider's own format, through LiteLLM."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from sqlmodel import Session

from chat_app.models import Message
from chat_app.services import chats, media, replies
from tests.fakes import media_samples as samples
from tests.support.factories import make_chat, make_user
from tests.support.waiting import wait_for_reply_job


def _upload(user, session, data: bytes, name: str, mime: str):
    intake = media.Intake(name, mime)
    intake.write(data)
    row = media.record(intake.finish(), owner_id=user.id, session=session)
    session.commit()
    return str(row.id)


async def _ask(engine, model_id: str, files: list[tuple[bytes, str, str]], text="What is in it?"):
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session)
        chat = make_chat(session, user, model_id=model_id)
        ids = [_upload(user, session, *f) for f in files]
        _, reply = chats.post_message(user, chat.id, text, session=session, attachment_ids=ids)
        session.commit()
    replies.start_reply(str(chat.id), str(reply.id), engine=engine)
    await wait_for_reply_job(reply.id)
    with Session(engine) as session:
        return session.get(Message, reply.id)


@pytest.mark.parametrize(
    ("model_id", "provider"),
    [
        ("openai/gpt-4o", "openai"),
        ("anthropic/claude-sonnet-4-5", "anthropic"),
        ("gemini/gemini-2.5-flash", "gemini"),
    ],
)
async def test_an_attached_image_reaches_each_provider(engine, app_settings, fake_env, model_id, provider):
    saved = await _ask(engine, model_id, [(samples.jpeg_with_exif(), "photo.jpg", "image/jpeg")])
    assert saved.status == "complete", saved.error
    (request,) = [r for r in fake_env.chat_requests if r["provider"] == provider]
    user_turn = request["messages"][-1]
    assert user_turn["text"].strip() == "What is in it?"
    (image,) = user_turn["images"]
    assert image["mime"] == "image/jpeg"
    sent = Image.open(io.BytesIO(base64.b64decode(image["data"])))
    assert sent.size == (40, 80)  # the cleaned, upright file: no EXIF went out either
    assert "exif" not in sent.info


async def test_a_video_reaches_gemini_inline(engine, app_settings, fake_env):
    saved = await _ask(engine, "gemini/gemini-2.5-flash", [(samples.mp4(), "clip.mp4", "video/mp4")])
    assert saved.status == "complete", saved.error
    (request,) = fake_env.chat_requests
    (video,) = request["messages"][-1]["images"]
    assert video["mime"] == "video/mp4"
    assert base64.b64decode(video["data"])[4:8] == b"ftyp"


async def test_large_images_are_scaled_down_before_they_are_sent(engine, app_settings, fake_env):
    saved = await _ask(engine, "openai/gpt-4o", [(samples.png(3000, 1000), "wide.png", "image/png")])
    assert saved.status == "complete", saved.error
    (image,) = fake_env.chat_requests[0]["messages"][-1]["images"]
    assert Image.open(io.BytesIO(base64.b64decode(image["data"]))).size == (2048, 683)


async def test_earlier_images_stay_in_the_conversation(engine, app_settings, fake_env):
    first = await _ask(engine, "openai/gpt-4o", [(samples.png(), "a.png", "image/png")])
    with Session(engine, expire_on_commit=False) as session:
        from chat_app.models import User

        chat_id = first.chat_id
        user = session.get(User, first.author_id)
        _, reply = chats.post_message(user, chat_id, "and now?", session=session)
        session.commit()
    fake_env.clear()
    replies.start_reply(str(chat_id), str(reply.id), engine=engine)
    await wait_for_reply_job(reply.id)
    messages = fake_env.chat_requests[0]["messages"]
    assert [len(m["images"]) for m in messages] == [1, 0, 0]
