"""Edits, regenerated replies and versions over HTTP."""

from __future__ import annotations

from tests.support.factories import api_user
from tests.support.waiting import chat_in_flight, wait_for_reply


def _texts(payload: dict) -> list[str]:
    return [m["content"] for m in payload["messages"]]


def test_edit_regenerate_and_move_between_versions(api, fake_env):
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    first = api.post(f"/api/chats/{chat_id}/messages", json={"content": "hello [[tokens=2]]"}).json()
    wait_for_reply(chat_in_flight(api, chat_id))

    edited = api.post(
        f"/api/chats/{chat_id}/messages/{first['message']['id']}/versions",
        json={"content": "hello again [[tokens=3]]"},
    )
    assert edited.status_code == 202
    assert edited.json()["message"]["parent_id"] == "" and edited.json()["message"]["branches"] == 2
    wait_for_reply(chat_in_flight(api, chat_id))
    shown = api.get(f"/api/chats/{chat_id}").json()
    assert _texts(shown) == ["hello again [[tokens=3]]", "tok1 tok2 tok3"]
    assert (shown["messages"][0]["branch"], shown["messages"][0]["branches"]) == (2, 2)
    assert [m["text"] for m in fake_env.chat_requests[-1]["messages"]] == [
        "hello again [[tokens=3]]"
    ]  # its branch only

    again = api.post(f"/api/chats/{chat_id}/regenerate", json={})
    assert again.status_code == 202
    wait_for_reply(chat_in_flight(api, chat_id))
    reply = api.get(f"/api/chats/{chat_id}").json()["messages"][1]
    assert (reply["branch"], reply["branches"]) == (2, 2) and reply["id"] == again.json()["reply"]["id"]

    back = api.post(
        f"/api/chats/{chat_id}/branch", json={"message_id": shown["messages"][0]["id"], "step": -1}
    )
    assert back.status_code == 200
    assert _texts(back.json()) == ["hello [[tokens=2]]", "tok1 tok2"]
    assert _texts(api.get(f"/api/chats/{chat_id}").json()) == ["hello [[tokens=2]]", "tok1 tok2"]  # kept

    tree = api.get(f"/api/chats/{chat_id}/tree").json()
    assert len(tree["messages"]) == 5 and tree["current_leaf_id"] == back.json()["current_leaf_id"]
    by_id = {m["id"]: m for m in tree["messages"]}
    assert all(m["parent_id"] == "" or m["parent_id"] in by_id for m in tree["messages"])


def test_bad_version_requests_are_refused_and_change_nothing(api, fake_env):
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    first = api.post(f"/api/chats/{chat_id}/messages", json={"content": "hi [[tokens=1]]"}).json()
    wait_for_reply(chat_in_flight(api, chat_id))
    before = api.get(f"/api/chats/{chat_id}/tree").json()
    for path, body, status in [
        (f"/api/chats/{chat_id}/branch", {"message_id": first["message"]["id"], "step": 1}, 400),
        (f"/api/chats/{chat_id}/branch", {"message_id": first["message"]["id"], "step": 2}, 400),
        (f"/api/chats/{chat_id}/branch", {"message_id": "nope", "step": 1}, 404),
        (f"/api/chats/{chat_id}/messages/{first['reply']['id']}/versions", {"content": "x"}, 400),
        (f"/api/chats/{chat_id}/messages/{first['message']['id']}/versions", {"content": 5}, 400),
        (f"/api/chats/{chat_id}/messages/{first['message']['id']}/versions", {"content": " "}, 400),
    ]:
        answer = api.post(path, json=body)
        assert answer.status_code == status, (path, body, answer.text)
        assert answer.json()["error"]
    assert api.get(f"/api/chats/{chat_id}/tree").json() == before
    api.cookies.clear()
    api_user(api)
    for path, body in [
        (f"/api/chats/{chat_id}/tree", None),
        (f"/api/chats/{chat_id}/regenerate", {}),
        (f"/api/chats/{chat_id}/branch", {"message_id": first["message"]["id"], "step": -1}),
        (f"/api/chats/{chat_id}/messages/{first['message']['id']}/versions", {"content": "mine now"}),
    ]:
        answer = api.get(path) if body is None else api.post(path, json=body)
        assert answer.status_code == 404
