"""A person's way through the app: register, chat with streaming, reload mid-reply, stop,
errors, sign-out, and another person who must not see any of it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import (
    PASSWORD,
    TOAST,
    choose_model,
    model_option,
    pages_on,
    register,
    send,
    sign_in,
    unique_email,
)

ASSISTANT = '[data-testid="message"][data-role="assistant"]'
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # screenshots, not committed


def _chat_id(page: Page) -> str:
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[-1]


def _last_reply(page: Page):
    return page.locator(ASSISTANT).last


def _watch_renders(page: Page, until_status: str, timeout: float = 30) -> list[str]:
    """Distinct texts the streaming reply showed, sampled every 30 ms, until it reaches a status."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = _last_reply(page)
        if reply.count():
            text = reply.inner_text()
            if text and (not seen or seen[-1] != text):
                seen.append(text)
            if reply.get_attribute("data-status") == until_status:
                return seen
        page.wait_for_timeout(30)
    raise AssertionError(f"the reply never reached {until_status}; saw {seen[-3:]}")


def test_register_chat_stream_reload_and_sign_out(page: Page, fake_providers):
    register(page)
    choose_model(page, "openai/gpt-4o")
    send(page, "Count for me [[tokens=30]] [[delay=0.12]]")
    chat_id = _chat_id(page)
    expect(page.locator('[data-testid="message"][data-role="user"]')).to_contain_text("Count for me")
    first = _last_reply(page)
    expect(first).to_have_attribute("data-status", "streaming")
    expect(first).to_contain_text("tok3")
    # Reload in the middle of the reply: it picks up where it is and runs to its end.
    page.reload()
    expect(_last_reply(page)).to_contain_text("tok1")
    renders = _watch_renders(page, "complete")
    growing = [t for t in renders if "tok30" not in t]
    assert len(growing) >= 2, f"expected the reply to grow on screen, saw {renders}"
    expect(_last_reply(page)).to_contain_text("tok30")
    # The sidebar shows the chat, titled from the first message.
    expect(page.get_by_test_id("chat-item").first).to_contain_text("Count for me")
    # A second reload shows the saved history.
    page.reload()
    expect(page.get_by_test_id("message")).to_have_count(2)
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    expect(_last_reply(page)).to_contain_text("tok1 tok2")
    # The provider got the whole conversation once, not per token.
    assert [
        r["json"]["messages"][-1]["content"]
        for r in fake_providers.chat_requests
        if "Count for me" in str(r["json"])
    ][:1]
    page.get_by_test_id("sign-out").click()
    page.wait_for_url(re.compile(r"/login"))
    page.goto(f"/chat/{chat_id}")
    page.wait_for_url(re.compile(r"/login\?next=/chat/"))
    expect(page.get_by_test_id("sign-in")).to_be_visible()


def test_sign_in_returns_to_the_chat_it_was_asked_for(page: Page, new_page):
    email = register(page)
    send(page, "remember me")
    chat_id = _chat_id(page)
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    visitor = new_page()
    visitor.goto(f"/chat/{chat_id}")
    visitor.wait_for_url(re.compile(r"/login"))
    visitor.get_by_test_id("email").fill(email)
    visitor.get_by_test_id("password").fill(PASSWORD)
    visitor.get_by_test_id("sign-in").click()
    visitor.wait_for_url(re.compile(f"/chat/{chat_id}$"))
    expect(visitor.get_by_test_id("message").first).to_contain_text("remember me")


def test_another_user_gets_not_found_for_the_chat_page_and_api(page: Page, new_page, app_url):
    register(page)
    send(page, "my private thoughts")
    chat_id = _chat_id(page)
    other = new_page()
    register(other)
    other.goto(f"/chat/{chat_id}")
    expect(other.get_by_test_id("chat-not-found")).to_be_visible()
    expect(other.get_by_text("my private thoughts")).to_have_count(0)
    cookies = {c["name"]: c["value"] for c in other.context.cookies()}
    response = httpx.get(f"{app_url}/api/chats/{chat_id}", cookies=cookies)
    assert response.status_code == 404
    assert "my private thoughts" not in response.text
    owner_cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert httpx.get(f"{app_url}/api/chats/{chat_id}", cookies=owner_cookies).status_code == 200


def test_stop_keeps_the_partial_reply(page: Page):
    register(page)
    send(page, "a short one first [[tokens=2]]")  # the chat's first message moves to its own page
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    # The chat's own page gives the composer the focus (the clicked button was left behind).
    expect(page.get_by_test_id("composer-input")).to_be_focused()
    send(page, "a long one [[tokens=200]] [[delay=0.1]]")
    expect(_last_reply(page)).to_contain_text("tok3")
    # Send became Stop and kept the focus: the keyboard stops the reply where the click sent it.
    expect(page.get_by_test_id("stop-button")).to_be_focused()
    page.keyboard.press("Space")
    expect(_last_reply(page)).to_have_attribute("data-status", "stopped")
    expect(page.get_by_test_id("send-button")).to_be_focused()
    text = _last_reply(page).inner_text()
    assert "tok3" in text and "tok200" not in text
    page.reload()
    expect(_last_reply(page)).to_have_attribute("data-status", "stopped")
    expect(page.get_by_test_id("send-button")).to_be_visible()


def test_provider_errors_show_inline_and_keep_the_message(page: Page, fake_providers):
    register(page)
    choose_model(page, "openai/gpt-4o")  # takes consecutive user turns as they are
    send(page, "please fail [[error=429]]")
    reply = _last_reply(page)
    expect(reply).to_have_attribute("data-status", "error")
    expect(reply.get_by_test_id("message-error")).to_contain_text("rate limiting")
    expect(reply.get_by_test_id("retry-button")).to_be_visible()
    expect(page.locator('[data-testid="message"][data-role="user"]')).to_contain_text("please fail")
    # A stream cut mid-way is an error with its partial text kept, never "complete".
    calls = len(fake_providers.chat_requests)
    reply.get_by_test_id("retry-button").click()
    for _ in range(100):  # the retry reached the provider (the error shown may still be the first one)
        if len(fake_providers.chat_requests) > calls:
            break
        page.wait_for_timeout(50)
    expect(page.get_by_test_id("retry-button")).to_be_visible()  # shown again once the retry has ended
    expect(_last_reply(page)).to_have_attribute("data-status", "error")
    send(page, "now cut me off [[tokens=20]] [[cut]]")
    expect(page.get_by_test_id("message")).to_have_count(4)
    expect(_last_reply(page)).to_have_attribute("data-status", "error")
    expect(_last_reply(page).get_by_test_id("message-error")).to_contain_text("ended the reply early")
    expect(_last_reply(page)).to_contain_text("tok1")


def test_markdown_renders_code_and_never_raw_html(page: Page):
    register(page)
    send(page, "Show me some [[markdown]]")
    reply = _last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator("pre code, pre").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"))
    send(page, 'say <img src=x onerror="window.__pwned=1"> <b>bold</b>')
    reply = _last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply).to_contain_text("<b>bold</b>")
    assert reply.locator("img, b").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_a_code_block_names_its_language_and_copies_its_text(page: Page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    register(page)
    send(page, "Show me some [[markdown]]")
    block = _last_reply(page).get_by_test_id("code-block")
    expect(block).to_have_count(1)
    expect(block.get_by_test_id("code-language")).to_have_text("python")
    block.get_by_test_id("copy-code").click()
    expect(page.get_by_text("Code copied.")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == 'def greet(name: str) -> str:\n    return f"Hello, {name}!"'


def test_a_very_long_message_of_ones_own_is_shown_collapsed_until_asked(page: Page):
    register(page)
    lines = "\n\n".join(f"line {n} of a pasted log, long enough to need a few screens" for n in range(60))
    send(page, f"{lines}\n\nthe end [[tokens=2]]")
    mine = page.locator('[data-testid="message"][data-role="user"]').last
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    end = mine.get_by_text("the end", exact=False)
    more = mine.get_by_test_id("show-more")
    expect(more).to_have_text("Show more", use_inner_text=True)
    expect(end).not_to_be_in_viewport()  # cut off at the collapsed height
    collapsed = mine.bounding_box()
    more.click()
    expect(more).to_have_text("Show less", use_inner_text=True)
    expanded = mine.bounding_box()
    assert collapsed and expanded and expanded["height"] > 3 * collapsed["height"]
    page.keyboard.press("Space")  # the toggle keeps the focus: the keyboard closes it again
    expect(more).to_have_text("Show more", use_inner_text=True)


def test_unconfigured_models_show_why_and_cannot_be_sent_to(page: Page):
    register(page)
    option = model_option(page, "deepseek/deepseek-chat")
    expect(option).to_have_attribute("data-available", "false")
    expect(option).to_be_disabled()
    expect(option).to_contain_text("DEEPSEEK_API_KEY")


def test_rename_and_delete_a_chat(page: Page):
    register(page)
    send(page, "first chat")
    _chat_id(page)
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    page.get_by_test_id("rename-chat").first.click()
    page.get_by_test_id("rename-input").fill("Renamed chat")
    page.get_by_test_id("rename-save").click()
    expect(page.get_by_test_id("chat-item").first).to_contain_text("Renamed chat")
    expect(page.get_by_test_id("chat-title")).to_contain_text("Renamed chat")
    page.get_by_test_id("delete-chat").first.click()
    page.get_by_test_id("confirm-delete").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_test_id("chat-item")).to_have_count(0)


def test_bad_sign_in_input_gets_clear_errors(page: Page):
    email = register(page, unique_email("dup"))
    page.get_by_test_id("sign-out").click()
    page.wait_for_url(re.compile(r"/login"))
    page.goto("/register")
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("register").click()
    expect(page.get_by_test_id("auth-error")).to_contain_text("already exists")
    sign_in(page, email, "wrong password!")
    expect(page.get_by_test_id("auth-error")).to_contain_text("Wrong email or password")
    expect(page.get_by_test_id("email")).to_have_value(email)  # kept for the next try


def test_phone_width_folds_the_sidebar_and_keeps_the_composer(new_page):
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    register(phone)
    send(phone, "hello from a phone")
    expect(_last_reply(phone)).to_have_attribute("data-status", "complete")
    expect(phone.get_by_test_id("composer-input")).to_be_in_viewport()
    expect(phone.get_by_test_id("chat-item").first).not_to_be_in_viewport()
    phone.get_by_role("button", name="Show chats").click()
    expect(phone.get_by_test_id("chat-item").first).to_be_in_viewport()
    phone.wait_for_timeout(300)  # let the slide-in finish for the screenshot
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone.png"))
    phone.locator(".backdrop").click(position={"x": 370, "y": 400})  # tapping beside it folds it away
    expect(phone.get_by_test_id("chat-item").first).not_to_be_in_viewport()


def test_enter_sends_and_shift_enter_adds_a_line(page: Page):
    register(page)
    box = page.get_by_test_id("composer-input")
    box.fill("line one")
    box.press("Shift+Enter")
    box.type("line two")
    box.press("Enter")
    expect(page.locator('[data-testid="message"][data-role="user"]')).to_contain_text("line two")
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    # The first message moved the page to the chat's own address: the composer has the focus
    # still, so the next message is typed and sent without reaching for the mouse.
    expect(page).to_have_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
    expect(box).to_be_focused()
    page.keyboard.type("and a second")
    page.keyboard.press("Enter")
    expect(page.locator('[data-testid="message"][data-role="user"]')).to_have_count(2)
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")


def test_a_second_tab_follows_the_reply_and_can_stop_it(page: Page, fake_providers):
    register(page)
    send(page, "go on for a while [[tokens=300]] [[delay=0.05]]")
    chat_id = _chat_id(page)
    expect(_last_reply(page)).to_contain_text("tok2")
    second = page.context.new_page()  # same person, another tab: a new Reflex client token
    second.goto(f"/chat/{chat_id}")
    expect(_last_reply(second)).to_have_attribute("data-status", "streaming")
    texts = _watch_renders(second, "streaming", timeout=1)
    second.wait_for_timeout(400)
    assert _last_reply(second).inner_text() != texts[0], "the second tab should see the reply grow"
    second.get_by_test_id("stop-button").click()
    expect(_last_reply(page)).to_have_attribute("data-status", "stopped")
    expect(_last_reply(second)).to_have_attribute("data-status", "stopped")
    # The first tab is told: its reply stopped without a click there.
    expect(page.locator(TOAST).filter(has_text="The reply was stopped.")).to_be_visible()
    expect(second.locator(TOAST).filter(has_text="The reply was stopped.")).to_have_count(0)
    # Regenerate replaces the stopped reply in place and runs it to its end.
    send(page, "short one [[tokens=3]]")
    expect(page.get_by_test_id("message")).to_have_count(4)
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    calls = len(fake_providers.chat_requests)
    page.get_by_test_id("regenerate-button").click()
    for _ in range(100):
        if len(fake_providers.chat_requests) > calls:
            break
        page.wait_for_timeout(50)
    assert len(fake_providers.chat_requests) > calls, "regenerate should call the provider again"
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    expect(_last_reply(page)).to_contain_text("tok3")
    expect(page.get_by_test_id("message")).to_have_count(4)
    second.close()


def test_a_refused_message_keeps_its_text_and_says_why(page: Page):
    register(page)
    send(page, "x" * 33_000)
    expect(page.get_by_test_id("composer-error")).to_contain_text("limit is 32,000")
    assert len(page.get_by_test_id("composer-input").input_value()) == 33_000
    expect(page.get_by_test_id("message")).to_have_count(0)
    send(page, "a short one")
    expect(page.get_by_test_id("composer-error")).to_have_count(0)
    expect(page.get_by_test_id("composer-input")).to_have_value("")
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")


def test_an_idle_tab_shows_what_another_tab_sends(page: Page):
    register(page)
    send(page, "first [[tokens=2]]")
    chat_id = _chat_id(page)
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    other = page.context.new_page()
    other.goto(f"/chat/{chat_id}")
    expect(other.get_by_test_id("message")).to_have_count(2)
    expect(other.get_by_test_id("send-button")).to_be_enabled()
    send(other, "sent from the other tab [[tokens=20]] [[delay=0.05]]")
    expect(page.locator('[data-testid="message"][data-role="user"]').last).to_contain_text(
        "from the other tab"
    )
    expect(_last_reply(page)).to_have_attribute("data-status", "streaming")
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    expect(_last_reply(page)).to_contain_text("tok20")
    expect(page.get_by_test_id("message")).to_have_count(4)
    other.close()


def test_the_first_message_names_a_chat_opened_empty(page: Page, app_url):
    register(page)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    chat_id = httpx.post(f"{app_url}/api/chats", json={"model_id": "openai/gpt-4o"}, cookies=cookies).json()[
        "id"
    ]
    page.goto(f"/chat/{chat_id}")
    expect(page.get_by_test_id("chat-title")).to_contain_text("New chat")
    send(page, "Plans for the weekend [[tokens=2]]")
    expect(page.get_by_test_id("chat-title")).to_contain_text("Plans for the weekend")
    expect(page.get_by_test_id("chat-item").first).to_contain_text("Plans for the weekend")
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")


def test_a_model_names_a_new_chat_from_its_first_exchange(page: Page, app_url):
    """The shared app's TITLE_MODEL is DeepSeek, for which the server has no key: titles are
    written for people who store their own."""
    register(page)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    stored = httpx.put(f"{app_url}/api/keys/deepseek", json={"api_key": "sk-own-deepseek"}, cookies=cookies)
    assert stored.status_code == 200, stored.text
    send(page, "What shall we do on Saturday? [[title=Weekend plans]] [[tokens=2]]")
    expect(page.get_by_test_id("chat-title")).to_have_text("Weekend plans")
    item = page.locator(f'[data-testid="chat-item"][data-chat-id="{_chat_id(page)}"]')
    expect(item).to_contain_text("Weekend plans")
    expect(item).not_to_contain_text("Saturday")
    page.reload()
    expect(page.get_by_test_id("chat-title")).to_have_text("Weekend plans")


def test_the_local_app_opened_at_127_0_0_1_works_as_at_localhost(browser, app_url):
    """PUBLIC_URL names localhost; a page opened at 127.0.0.1 connects and chats all the same."""
    with pages_on(browser, app_url.replace("localhost", "127.0.0.1")) as make:
        page = make()
        register(page)
        send(page, "hello from 127.0.0.1 [[tokens=2]]")
        expect(_last_reply(page)).to_have_attribute("data-status", "complete")
        expect(_last_reply(page)).to_contain_text("tok2")
        expect(page.get_by_test_id("wrong-address")).to_have_count(0)


def test_a_page_opened_at_an_address_the_server_does_not_allow_says_which_to_use(browser, app_url):
    """127.0.0.2 reaches this machine too, but no setting names it: the websocket is refused, and
    the page says where the app answers and which setting would allow this address."""
    elsewhere = app_url.replace("localhost", "127.0.0.2")
    with pages_on(browser, elsewhere) as make:
        page = make()
        page.goto("/login")
        notice = page.get_by_test_id("wrong-address")
        expect(notice).to_contain_text(f"This app answers at {app_url}, not at {elsewhere}.")
        expect(notice).to_contain_text(f"add {elsewhere} to ALLOWED_ORIGINS")
        # the same page at the right address
        expect(notice.get_by_role("link")).to_have_attribute(
            "href", re.compile(rf"^{re.escape(app_url)}/login/?$")
        )
