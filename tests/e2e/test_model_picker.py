"""The model picker: type tabs, search, sort, capabilities and prices, unavailable models, keyboard,
and a composer that fits the chosen model."""

import re

from playwright.sync_api import Page, expect

from tests.support.browser import choose_model, register, send

OPTION = '[data-testid="model-option"]'


def _open(page: Page) -> None:
    page.get_by_test_id("model-picker").click()
    expect(page.locator(OPTION).first).to_be_visible()


def _types(page: Page) -> set[str]:
    return {o.get_attribute("data-type") for o in page.locator(OPTION).all()}


def test_tabs_search_sort_and_picking_an_image_model(page: Page):
    register(page)
    _open(page)
    expect(page.locator(OPTION)).not_to_have_count(0)
    assert _types(page) == {"text", "image", "video"}
    page.get_by_test_id("model-type-image").click()
    expect(page.locator(f'{OPTION}[data-type="text"]')).to_have_count(0)
    assert _types(page) == {"image"}
    page.get_by_test_id("model-type-video").click()
    expect(page.locator(f'{OPTION}[data-type="image"]')).to_have_count(0)
    assert _types(page) == {"video"}
    page.get_by_test_id("model-type-text").click()
    expect(page.locator(f'{OPTION}[data-type="video"]')).to_have_count(0)
    gpt = page.locator(f'{OPTION}[data-model-id="openai/gpt-4o"]')
    expect(gpt).to_contain_text("Vision")
    expect(gpt).to_contain_text("per 1M tokens")
    expect(gpt).to_contain_text("128K context")
    page.get_by_test_id("model-sort").select_option("context")
    # The million-token windows come first.
    expect(page.locator(OPTION).first).to_have_attribute("data-model-id", re.compile(r"^gemini/"))
    page.get_by_test_id("model-type-all").click()
    page.get_by_test_id("model-search").fill("flux")
    expect(page.locator(OPTION)).to_have_count(1)
    page.get_by_test_id("model-search").fill("sdxl")
    sdxl = page.locator(f'{OPTION}[data-model-id="replicate/stability-ai/sdxl"]')
    expect(sdxl).to_have_attribute("data-available", "true")
    expect(sdxl).to_contain_text("per image")
    sdxl.click()
    expect(page.get_by_test_id("model-picker")).to_contain_text("SDXL")
    composer = page.get_by_test_id("composer-input")
    expect(composer).to_have_attribute("data-model-type", "image")
    expect(composer).to_have_attribute("placeholder", "Describe the image to generate…")
    expect(page.get_by_test_id("send-button")).to_contain_text("Generate image")


def test_unavailable_models_are_greyed_with_their_reason_and_cannot_be_picked(page: Page):
    register(page)
    _open(page)
    page.get_by_test_id("model-search").fill("deepseek")
    option = page.locator(f'{OPTION}[data-model-id="deepseek/deepseek-chat"]')
    expect(option).to_have_attribute("data-available", "false")
    expect(option).to_be_disabled()
    expect(option).to_contain_text("DEEPSEEK_API_KEY")
    expect(page.get_by_test_id("model-picker")).not_to_contain_text("DeepSeek")


def test_keyboard_moves_through_the_models_and_enter_picks(page: Page):
    register(page)
    _open(page)
    page.get_by_test_id("model-search").fill("gpt-4o mini")
    expect(page.locator(OPTION)).to_have_count(1)
    page.get_by_test_id("model-search").press("ArrowDown")
    focused = page.evaluate("document.activeElement.dataset.modelId")
    assert focused == "openai/gpt-4o-mini"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("model-picker")).to_contain_text("GPT-4o mini")
    expect(page.get_by_test_id("composer-input")).to_have_attribute("data-model-type", "text")
    # The choice is the user's default from now on: a new page shows it.
    page.reload()
    expect(page.get_by_test_id("model-picker")).to_contain_text("GPT-4o mini")


def test_each_reply_shows_its_cost_and_the_chat_its_total(page: Page):
    register(page)
    choose_model(page, "openai/gpt-4o")
    send(page, "price me [[tokens=40]]")
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")
    cost = reply.get_by_test_id("message-cost")
    expect(cost).to_have_text(re.compile(r"^\$0\.000[0-9]+$"))  # 40 tokens out at $10 per million, a few in
    amount = float(cost.inner_text().lstrip("$"))
    assert 0.0004 <= amount < 0.0005
    expect(page.get_by_test_id("chat-cost")).to_contain_text(cost.inner_text())


def test_a_reply_ends_with_its_text_and_shows_its_cost_when_the_provider_counts_it(page: Page):
    """The provider's count of tokens comes after the text (here 3 s after, [[linger]]): the reply
    is complete, and Send is back, as soon as its text is; its footer fills in when the count comes."""
    register(page)
    choose_model(page, "openai/gpt-4o")
    send(page, "count me later [[tokens=5]] [[linger=3]]")
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete", timeout=2_500)
    expect(page.get_by_test_id("send-button")).to_be_visible()
    expect(reply.get_by_test_id("message-cost")).to_have_count(0)  # not counted yet
    expect(reply.get_by_test_id("message-cost")).to_have_text(re.compile(r"^\$0\.0000[0-9]+$"))
    expect(reply).to_contain_text("5 out")
    expect(page.get_by_test_id("chat-cost")).to_contain_text(
        reply.get_by_test_id("message-cost").inner_text()
    )
