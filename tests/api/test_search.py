"""GET /api/search: one's chats by title and message, with marked snippets."""

from tests.support.factories import api_user
from tests.support.waiting import chat_in_flight, wait_for_reply


def test_a_search_finds_titles_and_messages_with_marked_snippets(api, fake_env):
    api_user(api)
    chat_id = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}).json()["id"]
    api.post(f"/api/chats/{chat_id}/messages", json={"content": "Tell me about capybaras"})
    wait_for_reply(chat_in_flight(api, chat_id))
    answer = api.get("/api/search", params={"q": "capy"})
    assert answer.status_code == 200
    title, reply, question = answer.json()["results"]  # newest first: a reply comes after its question
    assert (title["message_id"], title["chat_id"]) == (None, chat_id)
    assert question["role"] == "user" and question["snippet"] == [
        {"text": "Tell me about ", "hit": False},
        {"text": "capybaras", "hit": True},
    ]
    assert reply["role"] == "assistant" and reply["seq"] == 2  # the fake says it back
    assert api.get("/api/search", params={"q": "capy", "limit": "1"}).json()["results"] == [title]


def test_a_search_needs_a_person_words_and_a_sane_limit(api):
    assert api.get("/api/search", params={"q": "x"}).status_code == 401
    api_user(api)
    for params in ({}, {"q": "  "}, {"q": "x", "limit": "0"}, {"q": "x", "limit": "many"}):
        answer = api.get("/api/search", params=params)
        assert answer.status_code == 400, params
