"""Attacks on sharing, access and outbound fetches, each through the real HTTP API: what an editor,
a former link holder, an unconfirmed account or a provider's answer must not get."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from starlette.testclient import TestClient

from tests.fakes import media_samples as samples
from tests.support.factories import api_user, confirm_address
from tests.support.waiting import chat_in_flight, wait_for_reply

CHEAP, EXPENSIVE = "openai/gpt-4o-mini", "anthropic/claude-opus-4-5"
FLUX = "replicate/black-forest-labs/flux-schnell"


@pytest.fixture
def client_for(api) -> Iterator[Callable[[], TestClient]]:
    """Another person: their own client (and cookie jar) on the same app."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(TestClient(api.app, base_url="http://testserver"))


def _token(link: str) -> str:
    return link.rsplit("/", 1)[-1]


def _join_as_editor(owner: TestClient, editor: TestClient, chat_id: str) -> None:
    email = api_user(editor)
    view = owner.post("/api/share", json={"chat_id": chat_id, "emails": email, "can_edit": True}).json()
    (invite,) = view["invites"]
    assert editor.post(f"/api/invites/{_token(invite['invite_link'])}").status_code == 200


# ----- row 6: an editor runs the owner's most expensive model --------------------------------------


def test_an_editor_cannot_post_with_another_model_on_the_owners_key(client_for, fake_env):
    owner, editor = client_for(), client_for()
    api_user(owner)
    chat = owner.post("/api/chats", json={"model_id": CHEAP}).json()
    _join_as_editor(owner, editor, chat["id"])

    refused = editor.post(
        f"/api/chats/{chat['id']}/messages", json={"content": "hi [[tokens=1]]", "model_id": EXPENSIVE}
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "Only the owner can change this chat's model."
    after = owner.get(f"/api/chats/{chat['id']}").json()
    assert after["model_id"] == CHEAP and after["messages"] == []  # nothing posted, nothing changed

    # the chat's own model (named or not) is the editor's to write with
    posted = editor.post(
        f"/api/chats/{chat['id']}/messages", json={"content": "hi [[tokens=1]]", "model_id": CHEAP}
    )
    assert posted.status_code == 202 and posted.json()["reply"]["model_id"] == CHEAP
    wait_for_reply(chat_in_flight(owner, chat["id"]))
    # the owner still chooses freely
    mine = owner.post(
        f"/api/chats/{chat['id']}/messages", json={"content": "now [[tokens=1]]", "model_id": EXPENSIVE}
    )
    assert mine.status_code == 202
    wait_for_reply(chat_in_flight(owner, chat["id"]))
    assert owner.get(f"/api/chats/{chat['id']}").json()["model_id"] == EXPENSIVE


# ----- row 7: a rotated link still opens the chat and its files -----------------------------------


def test_after_rotation_the_old_link_the_chat_id_and_file_urls_answer_404(client_for, fake_env):
    owner, visitor, stranger = client_for(), client_for(), client_for()
    api_user(owner)
    api_user(stranger)
    (file,) = owner.post("/api/upload", files={"file": ("cat.png", samples.png(), "image/png")}).json()[
        "files"
    ]
    chat = owner.post("/api/chats", json={"model_id": CHEAP}).json()
    owner.post(
        f"/api/chats/{chat['id']}/messages",
        json={"content": "look [[tokens=1]]", "attachments": [file["id"]]},
    )
    wait_for_reply(chat_in_flight(owner, chat["id"]))
    link = owner.patch("/api/share", json={"chat_id": chat["id"], "is_public": True}).json()["link"]

    # by the link, the chat and its files (addressed with the link) are there to read
    shown = visitor.get(f"/api/shared/{_token(link)}")
    assert shown.status_code == 200 and shown.json()["role"] == "viewer"
    (media,) = shown.json()["messages"][0]["media"]
    assert media["url"].endswith(f"?link={_token(link)}")
    old_urls = [media["url"], media["thumb_url"]]
    assert [visitor.get(url).status_code for url in old_urls] == [200, 200]
    # the chat id the visitor learnt is no way in by itself
    for reader in (visitor, stranger):
        assert reader.get(f"/api/chats/{chat['id']}").status_code == 404
        assert reader.get(file["url"]).status_code == 404

    new_link = owner.post("/api/share/rotate", json={"chat_id": chat["id"]}).json()["link"]
    for reader in (visitor, stranger):
        assert reader.get(f"/api/shared/{_token(link)}").status_code == 404
        assert reader.get(f"/api/chats/{chat['id']}").status_code == 404
        assert [reader.get(url).status_code for url in [*old_urls, file["url"], file["thumb_url"]]] == [
            404
        ] * 4
    assert stranger.post(f"/api/chats/{chat['id']}/copy", params={"link": _token(link)}).status_code == 404

    # the new link works, files included; members never needed one
    fresh = visitor.get(f"/api/shared/{_token(new_link)}")
    assert fresh.status_code == 200
    assert visitor.get(fresh.json()["messages"][0]["media"][0]["url"]).status_code == 200
    copied = stranger.post(f"/api/chats/{chat['id']}/copy", params={"link": _token(new_link)})
    assert copied.status_code == 201
    assert owner.get(f"/api/chats/{chat['id']}").status_code == 200
    assert owner.get(file["url"]).status_code == 200


# ----- row 8: the operator's mail server as a spam relay ------------------------------------------


def test_an_unconfirmed_account_cannot_email_invitations(client_for, fake_env, smtp_env):
    owner = client_for()
    owner_email = api_user(owner)
    chat = owner.post("/api/chats", json={"model_id": CHEAP}).json()
    title = "WIN A PRIZE at prize.example"
    owner.patch(f"/api/chats/{chat['id']}", json={"title": title})

    invited = owner.post("/api/share", json={"chat_id": chat["id"], "emails": "victim@example.com"})
    assert invited.status_code == 201
    body = invited.json()
    assert body["emailed"] == [] and "Confirm yours" in body["not_emailed"]
    assert [i["email"] for i in body["invites"]] == ["victim@example.com"]  # the link is there to copy
    assert smtp_env.messages_to("victim@example.com", timeout=0.5) == []

    # once the address is confirmed, invitations go out; the title stays out of the subject
    confirm_address(owner, smtp_env, owner_email)
    sent = owner.post("/api/share", json={"chat_id": chat["id"], "emails": "friend@example.com"}).json()
    assert sent["emailed"] == ["friend@example.com"] and sent["not_emailed"] == ""
    (message,) = smtp_env.messages_to("friend@example.com")
    assert "prize" not in message["Subject"].lower() and owner_email in message["Subject"]


def test_invitation_emails_are_limited_per_person_and_per_recipient(client_for, fake_env, smtp_env):
    spammer = client_for()
    confirm_address(spammer, smtp_env, api_user(spammer))
    chats = [spammer.post("/api/chats", json={"model_id": CHEAP}).json()["id"] for _ in range(2)]
    first = spammer.post(
        "/api/share", json={"chat_id": chats[0], "emails": [f"p{i}@example.com" for i in range(50)]}
    )
    assert first.status_code == 201 and len(first.json()["emailed"]) == 50
    # a fresh chat does not give a fresh allowance
    more = spammer.post("/api/share", json={"chat_id": chats[1], "emails": "one-more@example.com"})
    assert more.status_code == 429 and int(more.headers["retry-after"]) > 3600
    assert "invitation emails today" in more.json()["error"]
    assert spammer.get("/api/share", params={"chat_id": chats[1]}).json()["invites"] == []  # nothing made
    assert smtp_env.messages_to("one-more@example.com", timeout=0.5) == []

    # one address receives a handful a day, however often it is removed and invited again
    owner = client_for()
    confirm_address(owner, smtp_env, api_user(owner))
    chat = owner.post("/api/chats", json={"model_id": CHEAP}).json()["id"]
    emailed = []
    for _ in range(6):
        answer = owner.post("/api/share", json={"chat_id": chat, "emails": "target@example.com"}).json()
        emailed.append(answer["emailed"])
        owner.delete("/api/share", params={"chat_id": chat, "email": "target@example.com"})
    assert emailed == [["target@example.com"]] * 5 + [[]]
    assert "target@example.com" in answer["not_emailed"]
    assert len(smtp_env.messages_to("target@example.com")) == 5


# ----- row 13: a provider's answer points the server at its own network ---------------------------


@pytest.fixture
def private_addresses_refused(monkeypatch) -> Iterator[None]:
    """As in production: the tests' fakes live on 127.0.0.1, which the test environment allows."""
    from chat_app import settings

    monkeypatch.setenv("OUTBOUND_PRIVATE_ADDRESSES_ALLOWED", "false")
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


@pytest.fixture
def outbound_checked(replicate_env, private_addresses_refused):
    """Generations against the local fake (an address the operator configured, so it is used)."""
    return replicate_env


@pytest.mark.parametrize(
    "output",
    [
        "",  # the fake's own file, on 127.0.0.1
        "[[output_url=http://169.254.169.254/latest/meta-data/iam/security-credentials/]]",
        "[[output_url=http://[::ffff:127.0.0.1]:9/x.png]]",
        "[[output_url=http://localhost:9/x.png]]",
    ],
)
def test_a_generation_output_on_a_private_address_is_not_fetched(client_for, outbound_checked, output):
    owner = client_for()
    api_user(owner)
    chat = owner.post("/api/chats", json={"model_id": FLUX}).json()
    posted = owner.post(
        f"/api/chats/{chat['id']}/messages", json={"content": f"a fox {output} [[duration=0.2]]"}
    )
    assert posted.status_code == 202
    wait_for_reply(chat_in_flight(owner, chat["id"]))
    reply = owner.get(f"/api/chats/{chat['id']}").json()["messages"][-1]
    assert reply["status"] == "error" and reply["media"] == []
    assert "address this server does not download from" in reply["error"]
    assert outbound_checked.downloads == []


async def test_a_redirect_to_a_private_address_is_not_followed(private_addresses_refused, monkeypatch):
    """The first address is public; it redirects to the server's own loopback."""
    from chat_app.services import generation, outbound
    from chat_app.services.llm import ProviderError

    async def public_dns(host: str, port: int) -> list:
        import ipaddress

        return [ipaddress.ip_address("93.184.215.14" if host == "cdn.example.com" else host)]

    monkeypatch.setattr(outbound, "resolve", public_dns)
    asked: list[httpx.Request] = []

    def provider_cdn(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(302, headers={"location": "http://127.0.0.1:8080/admin/export.png"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(provider_cdn)) as http:
        with pytest.raises(ProviderError, match="does not download from"):
            await generation.download(http, "http://cdn.example.com/out.png")
    assert [str(r.url) for r in asked] == ["http://93.184.215.14/out.png"]  # the loopback was never asked
    assert re.fullmatch(r"cdn\.example\.com", asked[0].headers["host"])
