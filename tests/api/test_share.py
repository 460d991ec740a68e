"""Sharing over HTTP: the access matrix through the API, invitations (with real email), bad input."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests.fakes import media_samples as samples
from tests.support.factories import api_user, confirm_address
from tests.support.waiting import chat_in_flight, wait_for_reply

ACTORS = ("owner", "editor", "viewer", "stranger", "anonymous")


@pytest.fixture
def client_for(api):
    """More signed-in people: each their own client (and cookie jar) on the same app, kept running
    so replies they start can finish."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield lambda: stack.enter_context(TestClient(api.app, base_url="http://testserver"))


def _token(link: str) -> str:
    return link.rsplit("/", 1)[-1]


@pytest.fixture
def shared(client_for, fake_env):
    """Owner, an editor and a viewer (both joined through their invitation links), a stranger, nobody."""
    people = {name: client_for() for name in ACTORS}
    emails = {name: api_user(people[name]) for name in ("owner", "editor", "viewer", "stranger")}
    owner = people["owner"]
    (file,) = owner.post("/api/upload", files={"file": ("cat.png", samples.png(), "image/png")}).json()[
        "files"
    ]
    chat = owner.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
    assert (
        owner.post(
            f"/api/chats/{chat['id']}/messages",
            json={"content": "look [[tokens=2]]", "attachments": [file["id"]]},
        ).status_code
        == 202
    )
    owner.post("/api/share", json={"chat_id": chat["id"], "emails": [emails["editor"]], "can_edit": True})
    view = owner.post("/api/share", json={"chat_id": chat["id"], "emails": emails["viewer"]}).json()
    for invite in view["invites"]:
        who = "editor" if invite["email"] == emails["editor"] else "viewer"
        assert people[who].post(f"/api/invites/{_token(invite['invite_link'])}").json() == {
            "chat_id": chat["id"]
        }
    wait_for_reply(chat_in_flight(owner, chat["id"]))
    return people, chat, file, _token(view["link"])


def _attempts(people, chat, file, token) -> dict[tuple[str, str], int]:
    got = {}
    for who in ACTORS:
        c = people[who]
        got[(who, "api_read")] = c.get(f"/api/chats/{chat['id']}").status_code
        got[(who, "link_read")] = c.get(f"/api/shared/{token}").status_code
        got[(who, "fetch_media")] = c.get(file["url"]).status_code
        got[(who, "link_media")] = c.get(file["url"], params={"link": token}).status_code
        got[(who, "share")] = c.get("/api/share", params={"chat_id": chat["id"]}).status_code
        got[(who, "rename")] = c.patch(f"/api/chats/{chat['id']}", json={"title": f"by {who}"}).status_code
        posted = c.post(f"/api/chats/{chat['id']}/messages", json={"content": f"from {who} [[tokens=1]]"})
        got[(who, "post")] = posted.status_code
        if posted.status_code == 202:
            wait_for_reply(chat_in_flight(people["owner"], chat["id"]))
        uploaded = c.post("/api/upload", files={"file": ("mine.png", samples.png(), "image/png")})
        attachments = [f["id"] for f in uploaded.json()["files"]] if uploaded.status_code == 201 else []
        attached = c.post(
            f"/api/chats/{chat['id']}/messages",
            json={"content": f"see this, {who} [[tokens=1]]", "attachments": attachments},
        )
        got[(who, "attach")] = attached.status_code
        if attached.status_code == 202:
            wait_for_reply(chat_in_flight(people["owner"], chat["id"]))
    return got


READ, WRITE = 200, 202
MEMBER = {
    "api_read": READ,
    "link_read": READ,
    "fetch_media": READ,
    "link_media": READ,
    "share": 403,
    "rename": 403,
}
EXPECTED = {
    "private": {
        "owner": {
            "api_read": READ,
            "link_read": READ,
            "fetch_media": READ,
            "link_media": READ,
            "share": READ,
            "rename": READ,
            "post": WRITE,
            "attach": WRITE,
        },
        "editor": {**MEMBER, "post": WRITE, "attach": WRITE},
        "viewer": {**MEMBER, "post": 403, "attach": 403},
        "stranger": {
            "api_read": 404,
            "link_read": 404,
            "fetch_media": 404,
            "link_media": 404,
            "share": 404,
            "rename": 404,
            "post": 404,
            "attach": 404,
        },
        "anonymous": {
            "api_read": 404,
            "link_read": 404,
            "fetch_media": 404,
            "link_media": 404,
            "share": 401,
            "rename": 401,
            "post": 401,
            "attach": 401,
        },
    },
}
# Non-members read a public chat and its files through its link alone; the chat id gives them nothing.
EXPECTED["public"] = {
    **EXPECTED["private"],
    "stranger": {**EXPECTED["private"]["stranger"], "link_read": READ, "link_media": READ},
    "anonymous": {**EXPECTED["private"]["anonymous"], "link_read": READ, "link_media": READ},
}


@pytest.mark.parametrize("visibility", ["private", "public"])
def test_the_access_matrix_through_the_api(shared, visibility):
    people, chat, file, token = shared
    assert (
        people["owner"]
        .patch("/api/share", json={"chat_id": chat["id"], "is_public": visibility == "public"})
        .status_code
        == 200
    )
    got = _attempts(people, chat, file, token)
    expected = {
        (who, action): code for who, row in EXPECTED[visibility].items() for action, code in row.items()
    }
    assert got == expected


def test_rotate_and_delete_are_the_owners_alone(shared):
    people, chat, _, token = shared
    for who in ("editor", "viewer"):
        assert people[who].post("/api/share/rotate", json={"chat_id": chat["id"]}).status_code == 403
        assert people[who].delete(f"/api/chats/{chat['id']}").status_code == 403
    assert people["stranger"].post("/api/share/rotate", json={"chat_id": chat["id"]}).status_code == 404
    assert people["stranger"].delete(f"/api/chats/{chat['id']}").status_code == 404
    assert people["anonymous"].post("/api/share/rotate", json={"chat_id": chat["id"]}).status_code == 401
    rotated = people["owner"].post("/api/share/rotate", json={"chat_id": chat["id"]}).json()
    assert _token(rotated["link"]) != token
    people["owner"].patch("/api/share", json={"chat_id": chat["id"], "is_public": True})
    assert people["anonymous"].get(f"/api/shared/{token}").status_code == 404  # the old link is dead
    assert people["anonymous"].get(f"/api/shared/{_token(rotated['link'])}").status_code == 200
    assert people["owner"].delete(f"/api/chats/{chat['id']}").status_code == 204


def test_removing_someone_ends_their_access(shared):
    people, chat, _, _ = shared
    viewer_email = people["viewer"].get("/api/me").json()["email"]
    assert (
        people["owner"]
        .delete("/api/share", params={"chat_id": chat["id"], "email": viewer_email})
        .status_code
        == 204
    )
    assert people["viewer"].get(f"/api/chats/{chat['id']}").status_code == 404
    assert people["viewer"].get("/api/shared").json() == []
    assert [c["id"] for c in people["editor"].get("/api/shared").json()] == [chat["id"]]


def test_continue_in_my_account_over_http(shared):
    people, chat, _, _ = shared
    copy = people["viewer"].post(f"/api/chats/{chat['id']}/copy")
    assert copy.status_code == 201
    mine = people["viewer"].get(f"/api/chats/{copy.json()['id']}").json()
    assert mine["role"] == "owner" and mine["messages"][0]["media"][0]["kind"] == "image"
    assert people["viewer"].get(mine["messages"][0]["media"][0]["url"]).status_code == 200
    assert people["stranger"].post(f"/api/chats/{chat['id']}/copy").status_code == 404


def test_bad_input_is_a_clear_400_and_changes_nothing(client_for, fake_env):
    owner, other = client_for(), client_for()
    api_user(owner)
    api_user(other)
    chat = owner.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
    theirs = other.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
    before = owner.get("/api/share", params={"chat_id": chat["id"]}).json()
    cases = [
        {"chat_id": chat["id"], "emails": "not-an-email"},
        {"chat_id": chat["id"], "emails": ["ok@example.com", "bad@@example.com"]},
        {"chat_id": chat["id"], "emails": [f"p{i}@example.com" for i in range(51)]},
        {"chat_id": chat["id"], "emails": "ok@example.com", "can_edit": "yes"},
        {"chat_id": chat["id"], "emails": 7},
        {"emails": "ok@example.com"},
    ]
    for body in cases:
        response = owner.post("/api/share", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]
    assert owner.patch("/api/share", json={"chat_id": chat["id"], "is_public": "true"}).status_code == 400
    assert (
        owner.post("/api/share", content=b"{", headers={"content-type": "application/json"}).status_code
        == 400
    )
    assert owner.get("/api/share", params={"chat_id": chat["id"]}).json() == before
    # other people's chats are simply not found
    assert (
        owner.post("/api/share", json={"chat_id": theirs["id"], "emails": "x@example.com"}).status_code == 404
    )
    assert owner.get("/api/share", params={"chat_id": "not-a-uuid"}).status_code == 404
    # share tokens of the wrong length or alphabet
    for token in ("abc", "a" * 33, "!" * 32, "%2e%2e%2f" * 4):
        assert owner.get(f"/api/shared/{token}").status_code == 404
    assert owner.post(f"/api/invites/{'x' * 32}").status_code == 404
    # duplicates merge
    merged = owner.post("/api/share", json={"chat_id": chat["id"], "emails": "A@example.com a@example.com"})
    assert [i["email"] for i in merged.json()["invites"]] == ["a@example.com"]


def test_invitations_are_emailed_with_a_working_link(client_for, fake_env, smtp_env):
    owner, invitee = client_for(), client_for()
    owner_email = api_user(owner)
    confirm_address(owner, smtp_env, owner_email)  # only confirmed addresses send invitations
    chat = owner.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
    owner.patch(f"/api/chats/{chat['id']}", json={"title": "Trip <plans>"})
    response = owner.post(
        "/api/share", json={"chat_id": chat["id"], "emails": "friend@example.com", "can_edit": True}
    )
    assert response.status_code == 201 and response.json()["emailed"] == ["friend@example.com"]
    (message,) = smtp_env.messages_to("friend@example.com")
    assert owner_email in message["Subject"]
    text = smtp_env.text_of(message)
    assert "Trip <plans>" in text and "read and write" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Trip &lt;plans&gt;" in html and "<plans>" not in html
    link = re.search(r"http://testserver/invite/[A-Za-z0-9_-]{32}", text).group(0)
    # a new account with that address opens the emailed link and is in
    api_user(invitee, "friend@example.com")
    assert invitee.get(f"/api/chats/{chat['id']}").status_code == 404  # not yet: the address is unproven
    assert invitee.post(f"/api/invites/{_token(link)}").status_code == 200
    assert invitee.get(f"/api/chats/{chat['id']}").json()["role"] == "editor"


def test_without_smtp_the_link_is_there_to_send_by_hand(api, fake_env):
    api_user(api)
    chat = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()
    view = api.post("/api/share", json={"chat_id": chat["id"], "emails": "friend@example.com"}).json()
    assert view["emailed"] == [] and view["email_enabled"] is False
    assert re.fullmatch(r"http://testserver/invite/[A-Za-z0-9_-]{32}", view["invites"][0]["invite_link"])


def test_each_change_of_who_may_read_is_announced_to_the_chats_open_views(api, fake_env):
    """The views of the chat, on any worker, hear it and check their access at once."""
    from contextlib import asynccontextmanager

    from chat_app.services import runtime

    api_user(api)
    chat_id = api.post("/api/chats", json={}).json()["id"]
    api.post("/api/share", json={"chat_id": chat_id, "emails": "reader@example.com"})

    @asynccontextmanager
    async def following():  # entered on the app's own event loop, as a view's follower is
        async with runtime.current().channel.follow(chat_id) as subscription:
            yield subscription

    with api.portal.wrap_async_context_manager(following()) as subscription:
        assert api.patch("/api/share", json={"chat_id": chat_id, "is_public": True}).status_code == 200
        assert api.patch(
            "/api/share", json={"chat_id": chat_id, "email": "reader@example.com", "can_edit": True}
        ).json()["invites"][0]["can_edit"]
        assert api.post("/api/share/rotate", json={"chat_id": chat_id}).status_code == 200
        assert (
            api.delete("/api/share", params={"chat_id": chat_id, "email": "reader@example.com"}).status_code
            == 204
        )
        heard: list[dict] = []
        for _ in range(20):
            heard += api.portal.call(subscription.next_batch, 0.2)
            if len(heard) >= 4:
                break
    assert [e["type"] for e in heard] == ["access"] * 4
