"""Conversation exports as other apps write them, for the import tests: the shapes of ChatGPT's
and Claude's `conversations.json` and of Open WebUI's export, with the details that trip a naive
reader (ChatGPT's tree with an edited message's two branches, hidden system turns, tool turns and
image parts; Claude's turns whose text sits only in `content`; Open WebUI's history tree)."""

from __future__ import annotations

from typing import Any

T0 = 1_733_000_000.0  # seconds since 1970, as ChatGPT and Open WebUI write times


def _node(node_id: str, parent: str | None, children: list[str], message: dict | None) -> dict[str, Any]:
    return {"id": node_id, "message": message, "parent": parent, "children": children}


def _chatgpt_message(node_id: str, role: str, parts: list, at: float, **extra: Any) -> dict[str, Any]:
    content_type = extra.pop("content_type", "text")
    return {
        "id": node_id,
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": at,
        "update_time": None,
        "content": {"content_type": content_type, "parts": parts},
        "status": "finished_successfully",
        "end_turn": True,
        "weight": 1.0,
        "metadata": extra.pop("metadata", {}),
        "recipient": "all",
        **extra,
    }


def chatgpt_conversation(title: str = "Packing for Lisbon") -> dict[str, Any]:
    """root → hidden system → question → (first answer | edited question → answer → tool → answer)."""
    mapping = {
        "root": _node("root", None, ["sys"], None),
        "sys": _node(
            "sys",
            "root",
            ["q1"],
            _chatgpt_message(
                "sys", "system", [""], T0, metadata={"is_visually_hidden_from_conversation": True}
            ),
        ),
        "q1": _node(
            "q1", "sys", ["a1", "q1b"], _chatgpt_message("q1", "user", ["What should I pack?"], T0 + 1)
        ),
        "a1": _node("a1", "q1", [], _chatgpt_message("a1", "assistant", ["An umbrella."], T0 + 2)),
        # The person edited their question: a second branch from the same parent, the current one.
        "q1b": _node(
            "q1b",
            "sys",
            ["a2"],
            _chatgpt_message(
                "q1b",
                "user",
                [
                    {"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"},
                    "What should I pack for Lisbon in May?",
                ],
                T0 + 3,
                content_type="multimodal_text",
            ),
        ),
        "a2": _node(
            "a2", "q1b", ["tool"], _chatgpt_message("a2", "assistant", ["Light layers and a jacket."], T0 + 4)
        ),
        "tool": _node(
            "tool",
            "a2",
            ["a3"],
            _chatgpt_message("tool", "tool", ["weather: 22C"], T0 + 5, content_type="execution_output"),
        ),
        "a3": _node("a3", "tool", [], _chatgpt_message("a3", "assistant", ["And sunscreen: 22 °C."], T0 + 6)),
    }
    mapping["sys"]["children"] = ["q1", "q1b"]
    return {
        "title": title,
        "create_time": T0,
        "update_time": T0 + 6,
        "mapping": mapping,
        "moderation_results": [],
        "current_node": "a3",
        "plugin_ids": None,
        "conversation_id": "6750aa00-0000-0000-0000-000000000001",
        "id": "6750aa00-0000-0000-0000-000000000001",
    }


def claude_conversations() -> list[dict[str, Any]]:
    return [
        {
            "uuid": "c0ffee00-0000-0000-0000-000000000001",
            "name": "Sourdough starter",
            "created_at": "2026-11-02T09:00:00.000000Z",
            "updated_at": "2026-11-02T09:05:00.000000Z",
            "account": {"uuid": "acc"},
            "chat_messages": [
                {
                    "uuid": "m1",
                    "text": "How do I feed a starter?",
                    "content": [{"type": "text", "text": "How do I feed a starter?"}],
                    "sender": "human",
                    "created_at": "2026-11-02T09:00:00.000000Z",
                    "attachments": [],
                    "files": [],
                },
                {
                    "uuid": "m2",
                    "text": "",  # newer exports keep the text in `content` only
                    "content": [
                        {"type": "text", "text": "Equal weights of flour and water, daily."},
                        {"type": "tool_use", "name": "none", "input": {}},
                    ],
                    "sender": "assistant",
                    "created_at": "2026-11-02T09:00:05.000000Z",
                    "attachments": [],
                    "files": [],
                },
            ],
        },
        {
            "uuid": "c0ffee00-0000-0000-0000-000000000002",
            "name": "",
            "created_at": "2026-11-03T10:00:00Z",
            "chat_messages": [
                {
                    "uuid": "m3",
                    "text": "Untitled question",
                    "sender": "human",
                    "created_at": "2026-11-03T10:00:00Z",
                },
                {
                    "uuid": "m4",
                    "text": "An answer.",
                    "sender": "assistant",
                    "created_at": "2026-11-03T10:00:01Z",
                },
            ],
        },
    ]


def open_webui_export() -> list[dict[str, Any]]:
    history = {
        "currentId": "b2",
        "messages": {
            "u1": {
                "id": "u1",
                "parentId": None,
                "childrenIds": ["b1", "b2"],
                "role": "user",
                "content": "Name a colour",
                "timestamp": T0,
            },
            "b1": {
                "id": "b1",
                "parentId": "u1",
                "childrenIds": [],
                "role": "assistant",
                "content": "Red",
                "timestamp": T0 + 1,
                "model": "llama3",
            },
            "b2": {
                "id": "b2",
                "parentId": "u1",
                "childrenIds": [],
                "role": "assistant",
                "content": "Teal",
                "timestamp": T0 + 2,
                "model": "llama3",
            },
        },
    }
    return [
        {
            "id": "owui-1",
            "user_id": "someone",
            "title": "Colours",
            "chat": {"id": "", "title": "Colours", "models": ["llama3"], "history": history, "messages": []},
            "created_at": int(T0),
            "updated_at": int(T0 + 2),
        }
    ]


def librechat_conversation(*, recursive: bool = True) -> dict[str, Any]:
    """A LibreChat export: the person asked again after the first answer (two branches); the
    second question's answer was regenerated, so it has two answers, the newer one last."""

    def message(message_id: str, parent: str, by_person: bool, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "messageId": message_id,
            "parentMessageId": parent,
            "conversationId": "4a86c40e-0000-0000-0000-000000000000",
            "sender": "User" if by_person else "Helper",
            "isCreatedByUser": by_person,
            "text": text,
            "createdAt": f"2026-10-01T12:00:0{message_id[-1]}.000Z",
            **extra,
        }

    q1 = message("m1", "00000000-0000-0000-0000-000000000000", True, "Which tea is calmest?")
    a1 = message("m2", "m1", False, "Chamomile.")
    q2a = message("m3", "m2", True, "thanks")
    q2b = message("m4", "m2", True, "And for the morning?")
    a2a = message("m5", "m4", False, "Green tea.")
    a2b = message(
        "m6", "m4", False, "", content=[{"type": "text", "text": {"value": "Sencha, a green tea."}}]
    )
    if recursive:
        q1["children"], a1["children"] = [a1], [q2a, q2b]
        q2a["children"], q2b["children"] = [], [a2a, a2b]
        a2a["children"] = a2b["children"] = []
        messages = [q1]
    else:
        messages = [q1, a1, q2a, q2b, a2a, a2b]
    return {
        "conversationId": "4a86c40e-0000-0000-0000-000000000000",
        "endpoint": "openAI",
        "title": "Tea",
        "exportAt": "13:18:04 GMT-0400 (Eastern Daylight Time)",
        "branches": True,
        "recursive": recursive,
        "options": {"model": "gpt-4o", "endpoint": "openAI"},
        "messages": messages,
    }
