"""Exports from the page (the open chat from its menu, every chat from the settings page), and\nconversations imported on the settings page."""

import json
import re
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.fakes import conversation_exports as exports
from tests.support.browser import register, send


def test_the_open_chat_and_all_chats_download_from_the_page(page: Page):
    register(page)
    send(page, "Export me [[tokens=3]]")
    reply = page.locator('[data-testid="message"][data-role="assistant"]').last
    expect(reply).to_have_attribute("data-status", "complete")

    page.get_by_test_id("export-menu").click()
    with page.expect_download() as markdown:
        page.get_by_test_id("export-md").click()
    assert markdown.value.suggested_filename == "Export me tokens3.md"
    text = Path(markdown.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Export me [[tokens=3]]\n\n## You\n\nExport me [[tokens=3]]\n")
    assert text.endswith("tok1 tok2 tok3\n")

    expect(page.get_by_test_id("export-json")).to_have_count(0)  # choosing closed the menu
    page.get_by_test_id("export-menu").click()
    with page.expect_download() as document:
        page.get_by_test_id("export-json").click()
    chat = json.loads(Path(document.value.path()).read_text(encoding="utf-8"))
    assert [m["content"] for m in chat["messages"]] == ["Export me [[tokens=3]]", "tok1 tok2 tok3"]

    page.get_by_test_id("settings-link").click()
    page.wait_for_url(re.compile(r"/settings$"))
    # Once the page has loaded: a download started while the route still settles is cancelled.
    expect(page.get_by_test_id("email-status")).to_be_visible()
    with page.expect_download() as everything:
        page.get_by_test_id("export-all").click()
    archive = zipfile.ZipFile(Path(everything.value.path()))
    assert sorted(archive.namelist()) == ["chat.json", "chat.md"]  # one chat: at the top
    assert json.loads(archive.read("chat.json"))["id"] == chat["id"]


def test_chatgpt_conversations_imported_on_the_settings_page_with_their_branches(page: Page, tmp_path: Path):
    register(page)
    broken = exports.chatgpt_conversation("Broken")
    broken["current_node"] = "missing"
    path = tmp_path / "conversations.json"
    path.write_text(
        json.dumps([exports.chatgpt_conversation("Packing for Lisbon"), broken]), encoding="utf-8"
    )
    page.goto("/settings")
    page.get_by_test_id("import-file-input").set_input_files(str(path))
    expect(page.get_by_test_id("import-summary")).to_have_text(
        "Imported 1 chat from ChatGPT. 1 could not be imported:"
    )
    expect(page.get_by_test_id("import-failure")).to_have_text(
        "Conversation 2 (“Broken”): This conversation does not say which of its branches is current."
    )
    page.goto("/")
    page.get_by_test_id("chat-item").filter(has_text="Packing for Lisbon").click()
    page.wait_for_url(re.compile(r"/chat/"))
    expect(page.locator('[data-testid="message"]')).to_have_count(3)
    expect(page.locator('[data-testid="message"]').last).to_contain_text("And sunscreen")
    # The edited question's first version came along: the tree is there to walk.
    question = page.locator('[data-testid="message"][data-role="user"]')
    expect(question.get_by_test_id("branch-label")).to_have_text("2 / 2")
    question.get_by_test_id("branch-prev").click()
    expect(page.locator('[data-testid="message"]')).to_have_count(2)
    expect(question).to_contain_text("What should I pack?")
    expect(page.locator('[data-testid="message"]').last).to_contain_text("An umbrella.")
