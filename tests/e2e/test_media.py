"""Media in the browser: attach and preview, vision, image and video generation, cancel."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.fakes import media_samples as samples
from tests.support.browser import choose_model, register, send

PREVIEW = '[data-testid="media-preview"]'


def _attach(page: Page, name: str, data: bytes, mime: str) -> None:
    page.get_by_test_id("file-input").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def _send_with_files(page: Page, text: str, *files: tuple[str, bytes, str]) -> None:
    """Attach these (name, bytes, type) at once, wait until all are attached, and send."""
    page.get_by_test_id("file-input").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data} for name, data, mime in files]
    )
    expect(page.get_by_test_id("attachment")).to_have_count(len(files))
    send(page, text)


def test_attach_an_image_see_it_and_ask_a_vision_model(page: Page, fake_providers):
    register(page)
    choose_model(page, "openai/gpt-4o")
    fake_providers.clear()
    _attach(page, "<img src=x onerror=alert(1)> holiday.jpg", samples.jpeg_with_exif(), "image/jpeg")
    chip = page.get_by_test_id("attachment")
    expect(chip).to_be_visible()
    expect(chip).to_contain_text(
        "<img src=x onerror=alert(1)> holiday.jpg"
    )  # the name is shown as text, never as markup
    expect(chip.locator("img")).to_have_js_property("naturalWidth", 40)  # the thumbnail loaded

    send(page, "What is in this picture?")
    mine = page.locator('[data-testid="message"][data-role="user"]')
    preview = mine.locator(f'{PREVIEW}[data-kind="image"]')
    expect(preview).to_be_visible()
    expect(preview.locator("img")).to_have_js_property("complete", True)
    expect(page.get_by_test_id("attachment")).to_have_count(0)
    expect(
        page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]')
    ).to_have_count(1)
    (request,) = fake_providers.chat_requests
    (image,) = request["messages"][-1]["images"]
    assert image["mime"] == "image/jpeg" and image["data"]

    page.reload()  # kept for good: the history shows it again from the database
    expect(page.locator(f'{PREVIEW}[data-kind="image"]')).to_be_visible()


def test_a_model_without_vision_blocks_attaching_with_the_reason(page: Page):
    register(page)
    choose_model(page, "openai/gpt-4o")
    _attach(page, "cat.png", samples.png(), "image/png")
    expect(page.get_by_test_id("attachment")).to_be_visible()
    choose_model(page, "replicate/stability-ai/sdxl")
    expect(page.get_by_test_id("attach-refusal")).to_contain_text("does not take attachments")
    expect(page.get_by_test_id("send-button")).to_be_disabled()
    expect(page.get_by_test_id("attach-button")).to_be_disabled()
    expect(page.get_by_test_id("attach-button")).to_have_attribute(
        "title", "SDXL makes images from a text prompt; it does not take attachments."
    )


def test_a_refused_file_says_why_and_attaches_nothing(page: Page):
    register(page)
    choose_model(page, "openai/gpt-4o")
    _attach(page, "page.png", samples.html_page(), "image/png")
    expect(page.get_by_test_id("composer-error")).to_contain_text("not a supported image or video")
    expect(page.get_by_test_id("attachment")).to_have_count(0)


def test_generate_an_image_with_progress_then_the_picture(page: Page, fake_replicate):
    register(page)
    choose_model(page, "replicate/black-forest-labs/flux-schnell")
    send(page, "a lighthouse at dusk")
    progress = page.get_by_test_id("generation-progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("data-status", "processing")
    expect(page.get_by_test_id("generation-percent")).to_contain_text("%")
    expect(page.get_by_test_id("generation-elapsed")).to_contain_text("0:0")
    picture = page.locator(f'[data-role="assistant"] {PREVIEW}[data-kind="image"]')
    expect(picture).to_be_visible()
    expect(progress).to_have_count(0)
    expect(picture.locator("img")).to_have_js_property("complete", True)
    assert picture.locator("img").evaluate("img => img.naturalWidth") > 0
    src = picture.locator("img").get_attribute("src")
    assert src.startswith("/api/media/") and fake_replicate.url not in page.content()


def test_generate_a_video_and_play_it(page: Page):
    register(page)
    choose_model(page, "replicate/anotherjesse/zeroscope-v2-xl")
    send(page, "waves at dusk [[duration=1]]")
    expect(page.get_by_test_id("generation-progress")).to_be_visible()
    video = page.locator(f'[data-role="assistant"] {PREVIEW}[data-kind="video"]')
    expect(video).to_be_visible(timeout=20_000)
    # The browser can decode it: metadata loaded, a duration, and it plays.
    page.wait_for_function(
        "v => v.readyState >= 1 && v.duration > 0.5", arg=video.element_handle(), timeout=10_000
    )
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime > 0", arg=video.element_handle(), timeout=10_000)


def test_cancel_a_generation(page: Page, fake_replicate):
    register(page)
    choose_model(page, "replicate/black-forest-labs/flux-schnell")
    send(page, "a slow painting [[hang]]")
    expect(page.get_by_test_id("generation-progress")).to_have_attribute("data-status", "processing")
    page.get_by_test_id("cancel-generation").click()
    reply = page.locator('[data-testid="message"][data-role="assistant"]')
    expect(reply).to_have_attribute("data-status", "stopped")
    expect(page.get_by_test_id("regenerate-button")).to_be_visible()
    hung = [p for p in fake_replicate.predictions.values() if "[[hang]]" in p["input"]["prompt"]]
    assert hung and all(p["status"] == "canceled" for p in hung)


def test_the_conversation_follows_new_content_to_its_end(page: Page):
    register(page)
    choose_model(page, "openai/gpt-4o")
    for i in range(6):
        send(page, f"line {i} [[tokens=60]] [[delay=0.001]]")
        expect(page.locator('[data-role="assistant"][data-status="complete"]')).to_have_count(i + 1)
    pane = page.locator(".conversation")
    gap = "el => el.scrollHeight - el.scrollTop - el.clientHeight"
    page.wait_for_function(
        f"() => {{ const el = document.querySelector('.conversation'); return ({gap})(el) < 5; }}"
    )
    assert pane.evaluate("el => el.scrollHeight > el.clientHeight")  # there was something to follow


def test_paste_an_image_into_the_message_box(page: Page):
    import base64

    register(page)
    choose_model(page, "openai/gpt-4o")
    encoded = base64.b64encode(samples.png()).decode()
    page.get_by_test_id("composer-input").focus()
    page.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
            const event = new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true });
            document.getElementById("composer").dispatchEvent(event);
        }""",
        encoded,
    )
    expect(page.get_by_test_id("attachment")).to_contain_text("pasted.png")


def test_a_reload_mid_generation_picks_the_progress_up_again(page: Page):
    register(page)
    choose_model(page, "replicate/black-forest-labs/flux-schnell")
    send(page, "a long painting [[duration=4]]")
    expect(page.get_by_test_id("generation-progress")).to_have_attribute("data-status", "processing")
    page.reload()
    expect(page.get_by_test_id("generation-progress")).to_be_visible()
    expect(page.get_by_test_id("generation-percent")).to_contain_text("%")
    expect(page.locator(f'[data-role="assistant"] {PREVIEW}[data-kind="image"]')).to_be_visible()
    expect(page.get_by_test_id("generation-progress")).to_have_count(0)


def test_attaching_more_files_than_one_upload_may_carry_takes_the_first_and_says_so(page: Page):
    register(page)
    choose_model(page, "openai/gpt-4o")
    page.get_by_test_id("file-input").set_input_files(
        files=[
            {"name": f"dot-{i}.png", "mimeType": "image/png", "buffer": samples.png(4 + i, 4)}
            for i in range(12)
        ]
    )
    expect(page.get_by_test_id("composer-error")).to_contain_text(
        "Attach at most 10 files at once: dot-10.png, dot-11.png not taken."
    )
    expect(page.get_by_test_id("attachment")).to_have_count(10)


def test_pictures_open_in_a_viewer_that_the_keyboard_moves_through(page: Page):
    register(page)
    _send_with_files(
        page,
        "two pictures [[tokens=2]]",
        ("first.png", samples.png(), "image/png"),
        ("second.jpg", samples.jpeg_with_exif(), "image/jpeg"),
    )
    pictures = page.locator(f'{PREVIEW}[data-kind="image"]')
    expect(pictures).to_have_count(2)
    pictures.first.click()
    viewer = page.get_by_test_id("media-viewer")
    expect(viewer).to_be_visible()
    expect(viewer.get_by_test_id("viewer-caption")).to_have_text("first.png · 1 / 2")
    expect(viewer.get_by_test_id("viewer-image")).to_have_js_property("complete", True)
    assert viewer.get_by_test_id("viewer-image").evaluate("img => img.naturalWidth") > 0
    page.keyboard.press("ArrowRight")
    expect(viewer.get_by_test_id("viewer-caption")).to_have_text("second.jpg · 2 / 2")
    page.keyboard.press("ArrowRight")  # round to the first again
    expect(viewer.get_by_test_id("viewer-caption")).to_have_text("first.png · 1 / 2")
    page.keyboard.press("Tab")
    expect(viewer.get_by_test_id("viewer-previous")).to_be_focused()  # the focus stays inside
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(pictures.first).to_be_focused()  # back where it came from


def test_videos_open_in_the_viewer_among_the_pictures(page: Page):
    register(page)
    choose_model(page, "gemini/gemini-2.5-flash")
    _send_with_files(
        page,
        "a picture and a clip [[tokens=2]]",
        ("still.png", samples.png(), "image/png"),
        ("clip.mp4", samples.mp4(), "video/mp4"),
    )
    video = page.locator(f'{PREVIEW}[data-kind="video"]')
    expect(video).to_be_visible()
    expand = page.get_by_test_id("media-expand")
    expand.click()  # a click on the video itself plays it in place
    viewer = page.get_by_test_id("media-viewer")
    expect(viewer).to_have_attribute("data-kind", "video")
    expect(viewer.get_by_test_id("viewer-caption")).to_have_text("clip.mp4 · 2 / 2")
    shown = viewer.get_by_test_id("viewer-video")
    page.wait_for_function("v => v.readyState >= 1 && v.duration > 0.5", arg=shown.element_handle())
    expect(viewer.get_by_test_id("viewer-image")).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    expect(viewer).to_have_attribute("data-kind", "image")
    expect(viewer.get_by_test_id("viewer-caption")).to_have_text("still.png · 1 / 2")
    expect(shown).to_be_hidden()
    page.keyboard.press("ArrowRight")
    expect(viewer).to_have_attribute("data-kind", "video")
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(expand).to_be_focused()


def test_a_picture_reply_never_shows_the_text_of_a_reply_streaming_after_it(page: Page):
    """A reply without text (a picture) shows none of another reply's live text, whether it
    arrived while the page was open or with the page's history after a reload."""
    register(page)
    choose_model(page, "replicate/black-forest-labs/flux-schnell")
    send(page, "a lighthouse at dusk")
    picture_reply = page.locator('[data-testid="message"][data-role="assistant"]').filter(
        has=page.locator(f'{PREVIEW}[data-kind="image"]')
    )
    expect(picture_reply).to_be_visible(timeout=20_000)
    streaming = page.locator('[data-testid="message"][data-role="assistant"][data-status="streaming"]')
    choose_model(page, "openai/gpt-4o")
    for _ in range(2):  # then again after a reload, the picture now in the page's history
        send(page, "a long one [[tokens=300]] [[delay=0.01]]")
        expect(streaming).to_contain_text("tok20")
        # Read at once, while the reply still streams (an expectation would wait for it to end).
        assert "tok" not in picture_reply.inner_text()
        expect(streaming).to_have_count(1)
        expect(streaming).to_have_count(0, timeout=20_000)
        assert "tok" not in picture_reply.inner_text()
        page.reload()
        expect(picture_reply).to_be_visible()
