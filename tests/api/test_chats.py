"""Chats over HTTP: ownership, validation, and a reply streamed by the server to the end."""

import time
import uuid

import httpx

from chat_app.db import session_scope
from chat_app.models import Chat, ConversationSummary, Message
from tests.support.factories import api_user, write_conversation
from tests.support.waiting import chat_in_flight, wait_for_reply


def test_create_post_and_read_back_the_streamed_reply(api, fake_env):
    api_user(api)
    chat = api.post("/api/chats", json={"model_id": "openai/gpt-4o"})
    assert chat.status_code == 201
    chat_id = chat.json()["id"]
    posted = api.post(f"/api/chats/{chat_id}/messages", json={"content": "hello [[tokens=4]]"})
    assert posted.status_code == 202
    assert posted.json()["reply"]["status"] == "pending"
    wait_for_reply(chat_in_flight(api, chat_id))
    done = api.get(f"/api/chats/{chat_id}").json()
    assert [m["role"] for m in done["messages"]] == ["user", "assistant"]
    assert done["messages"][1]["content"] == "tok1 tok2 tok3 tok4"
    assert done["messages"][1]["status"] == "complete" and done["messages"][1]["output_tokens"] == 4
    assert done["title"] == "hello [[tokens=4]]"
    assert [c["id"] for c in api.get("/api/chats").json()] == [chat_id]


def test_another_user_gets_404_for_everything_about_the_chat(api, fake_env):
    api_user(api)
    chat_id = api.post("/api/chats", json={}).json()["id"]
    api.post(f"/api/chats/{chat_id}/messages", json={"content": "secret [[tokens=2]]"})
    wait_for_reply(chat_in_flight(api, chat_id))
    api.cookies.clear()
    api_user(api)
    for method, path, body in [
        ("GET", f"/api/chats/{chat_id}", None),
        ("PATCH", f"/api/chats/{chat_id}", {"title": "stolen"}),
        ("DELETE", f"/api/chats/{chat_id}", None),
        ("POST", f"/api/chats/{chat_id}/messages", {"content": "hi"}),
        ("POST", f"/api/chats/{chat_id}/stop", None),
        ("GET", "/api/chats/not-a-uuid", None),
    ]:
        response = api.request(method, path, json=body)
        assert response.status_code == 404, (method, path)
        assert "secret" not in response.text
    assert api.get("/api/chats").json() == []


def test_the_summary_a_reply_was_sent_with_is_read_by_the_chats_readers_alone(api, fake_env):
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    posted = api.post(f"/api/chats/{chat_id}/messages", json={"content": "hi [[tokens=2]]"}).json()
    wait_for_reply(chat_in_flight(api, chat_id))
    route = f"/api/chats/{chat_id}/messages/{posted['reply']['id']}/summary"
    assert api.get(route).status_code == 404  # this reply was sent the whole conversation
    with session_scope() as session:
        summary = ConversationSummary(
            message_id=uuid.UUID(posted["message"]["id"]),
            chat_id=uuid.UUID(chat_id),
            depth=1,
            covered=1,
            content="They said hi.",
            model_id="openai/gpt-4o-mini",
        )
        session.add(summary)
        reply = session.get(Message, uuid.UUID(posted["reply"]["id"]))
        assert reply is not None
        reply.summary_id = summary.id
    (_, shown) = api.get(f"/api/chats/{chat_id}").json()["messages"]
    assert shown["summary_id"] == str(summary.id)
    read = api.get(route)
    assert read.status_code == 200
    assert read.json()["content"] == "They said hi." and read.json()["model_name"] == "GPT-4o mini"
    api.cookies.clear()
    api_user(api)
    refused = api.get(route)
    assert refused.status_code == 404 and "said" not in refused.text


def test_the_list_of_chats_comes_a_page_at_a_time_following_its_link(api, fake_env):
    api_user(api)
    made = [api.post("/api/chats", json={}).json()["id"] for _ in range(5)]
    api.patch(f"/api/chats/{made[0]}", json={"pinned": True})  # pinned chats are listed too
    seen, address, pages = [], "/api/chats?limit=2", 0
    while address:
        page = api.get(address)
        assert page.status_code == 200
        seen += [c["id"] for c in page.json()]
        pages += 1
        link = page.headers.get("link")
        address = link.split(">")[0].lstrip("<") if link else ""
        assert not link or link.endswith('rel="next"')
    assert pages == 3 and sorted(seen) == sorted(made) and len(seen) == 5  # each once
    assert len(api.get("/api/chats").json()) == 5 and "link" not in api.get("/api/chats").headers
    for bad, says in [
        ("limit=0", "1 to 200"),
        ("limit=201", "1 to 200"),
        ("limit=two", "whole number"),
        ("after=not-a-cursor", "cannot be found"),
    ]:
        refused = api.get(f"/api/chats?{bad}")
        assert refused.status_code == 400 and says in refused.json()["error"], bad


def test_signed_out_requests_get_401(api):
    assert api.get("/api/chats").status_code == 401
    assert api.post("/api/chats", json={}).status_code == 401


def test_bad_messages_get_400_and_change_nothing(api, fake_env, monkeypatch):
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    for body in ({"content": "   "}, {"content": 42}, {}, {"content": "x" * 40_000}):
        response = api.post(f"/api/chats/{chat_id}/messages", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"].endswith(".")
    assert (
        api.post(
            f"/api/chats/{chat_id}/messages", content=b"[1,2", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert api.get(f"/api/chats/{chat_id}").json()["messages"] == []


def test_unconfigured_provider_is_refused_with_the_reason(api, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "deepseek/deepseek-chat"}).json()["id"]
    response = api.post(f"/api/chats/{chat_id}/messages", json={"content": "hi"})
    assert response.status_code == 400 and "DEEPSEEK_API_KEY" in response.json()["error"]


def test_rename_delete_and_stop(api, fake_env):
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    assert api.patch(f"/api/chats/{chat_id}", json={"title": "  Trip plans "}).json()["title"] == "Trip plans"
    assert api.patch(f"/api/chats/{chat_id}", json={"title": ""}).status_code == 400
    api.post(f"/api/chats/{chat_id}/messages", json={"content": "[[tokens=300]] [[delay=0.05]]"})
    time.sleep(1.0)
    assert api.post(f"/api/chats/{chat_id}/stop").json() == {"stopped": True}
    wait_for_reply(chat_in_flight(api, chat_id))
    done = api.get(f"/api/chats/{chat_id}").json()
    assert done["messages"][-1]["status"] == "stopped"
    # A stopped reply leaves the chat free: the next message is answered.
    again = api.post(f"/api/chats/{chat_id}/messages", json={"content": "go on [[tokens=2]]"})
    assert again.status_code == 202
    wait_for_reply(chat_in_flight(api, chat_id))
    assert api.get(f"/api/chats/{chat_id}").json()["messages"][-1]["status"] == "complete"
    assert api.delete(f"/api/chats/{chat_id}").status_code == 204
    assert api.get(f"/api/chats/{chat_id}").status_code == 404


def test_a_chat_far_past_the_models_window_still_gets_its_reply(api, fake_env):
    """The fake refuses a prompt over GPT-4o's 128,000 tokens as OpenAI does; the app sends the
    newest turns that fit, and says so on the reply."""
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    long = "a long turn of this conversation, " * 30  # about 210 tokens
    with session_scope() as session:
        chat = session.get(Chat, uuid.UUID(chat_id))
        assert chat is not None
        write_conversation(session, chat, [f"{n}: {long}" for n in range(1, 2_001)])
    posted = api.post(f"/api/chats/{chat_id}/messages", json={"content": "and now? [[tokens=3]]"})
    assert posted.status_code == 202
    wait_for_reply(chat_in_flight(api, chat_id))
    (request,) = fake_env.chat_requests
    sent = request["messages"]
    assert sent[-1]["text"] == "and now? [[tokens=3]]" and sent[0]["role"] == "user"
    assert 300 < len(sent) < 2_001  # the newest that fit, not all
    assert sent[-2]["text"].startswith("2000: ")
    reply = api.get(f"/api/chats/{chat_id}").json()["messages"][-1]
    assert reply["status"] == "complete" and reply["content"] == "tok1 tok2 tok3"
    assert reply["context_note"] == (
        f"Used the last {len(sent):,} messages; {2_001 - len(sent):,} earlier messages did not "
        "fit the model's context window and were not sent."
    )
    assert reply["input_tokens"] == sum(len(m["text"].split()) for m in sent)  # what the fake was sent


def test_the_fake_refuses_a_prompt_over_the_window_as_openai_does(fake_env):
    answer = httpx.post(
        f"{fake_env.base_url}/v1/chat/completions",
        headers={"Authorization": "Bearer sk-test"},
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "word " * 140_000}]},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "context_length_exceeded" and error["param"] == "messages"
    assert error["message"].startswith("This model's maximum context length is 128000 tokens.")


def test_a_message_too_long_for_the_model_is_refused_and_nothing_is_saved(api, fake_env, configure):
    configure(MAX_MESSAGE_CHARS="200000")  # the default (32,000) keeps messages within GPT-4o's window
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    dense = "a1b2c3d4 " * 15_000  # 135 KB, about 120,000 tokens: more than GPT-4o takes with a reply
    refused = api.post(f"/api/chats/{chat_id}/messages", json={"content": dense})
    assert refused.status_code == 400 and refused.json()["code"] == "too_long"
    assert refused.json()["error"].startswith("This message is too long for GPT-4o: it is about ")
    assert api.get(f"/api/chats/{chat_id}").json()["messages"] == []
    assert fake_env.chat_requests == []
