"""Wire-faithful fake LLM providers for tests and benchmarks.

One Starlette app speaks four streaming protocols over real HTTP, so the real LiteLLM
client code runs unmodified against it:

* OpenAI chat completions (also DeepSeek): ``POST /v1/chat/completions`` and ``/chat/completions``
* Anthropic messages: ``POST /v1/messages``
* Gemini (Google AI Studio): ``POST /v1beta/models/{model}:streamGenerateContent?alt=sse``
  and ``:generateContent``
* Ollama: ``POST /api/chat`` (plus ``/api/generate``, ``/api/tags``, ``/api/show``, ``GET /``)

Behaviour is scripted by directives in the last user message, e.g. ``hi [[tokens=5]] [[cut]]``
(see ``Script``). Every request is recorded (path, query, headers, JSON body, plus the
messages normalised across protocols) so tests can assert what the app really sent.

Run standalone: ``python -m tests.fakes.providers --port 9999``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.server import BackgroundServer

BAD_KEY = "bad-key"
"""The one API key every fake rejects with the provider's real authentication error."""

OLLAMA_MODELS = ("llama3.2:latest", "qwen2.5:0.5b")

MARKDOWN_REPLY = """# Fake answer

Here is a list:

- first item
- second item with **bold**

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

That is all."""

Finish = Literal["stop", "length"]


# --------------------------------------------------------------------------- scripting

_DIRECTIVE = re.compile(r"\[\[(\w+)(?:=([^\]]*))?\]\]")


@dataclass(frozen=True)
class Script:
    """What the fake should do, parsed from ``[[name=value]]`` directives in the user's text."""

    text: str = ""
    tokens: int | None = None
    delay: float = 0.01
    first_delay: float = 0.0
    stall: float = 0.0
    # seconds before a finished stream's last frame ([DONE] for OpenAI): what comes after the text
    # (the count of tokens, the end) takes that long
    linger: float = 0.0
    error: int | None = None
    cut: bool = False
    badline: bool = False
    markdown: bool = False
    echo_model: bool = False
    stamp: bool = False  # each chunk carries the time it was sent ("tok1@1733058000.123"): delay benches
    title: str | None = None  # what a request whose system message asks for a title is answered
    summary: str | None = None  # and one whose system message asks for a summary

    @classmethod
    def parse(cls, text: str) -> Script:
        values: dict[str, Any] = {"text": _DIRECTIVE.sub("", text).strip()}
        for name, raw in _DIRECTIVE.findall(text):
            if name in ("tokens", "error"):
                values[name] = int(raw)
            elif name in ("delay", "first_delay", "stall", "linger"):
                values[name] = float(raw)
            elif name in ("cut", "badline", "markdown", "echo_model", "stamp"):
                values[name] = True
            elif name in ("title", "summary"):
                values[name] = raw
        return cls(**values)

    def reply_text(self, model: str, *, titling: bool = False, summarizing: bool = False) -> str:
        if titling and self.title is not None:
            return self.title
        if summarizing and self.summary is not None:
            return self.summary
        if self.tokens is not None:
            return " ".join(f"tok{i}" for i in range(1, self.tokens + 1))
        if self.markdown:
            return MARKDOWN_REPLY
        if self.echo_model:
            return model
        return f"You said: {self.text}".rstrip()


def split_words(text: str) -> list[str]:
    """Word-sized chunks that keep their leading whitespace, so they join back to ``text``."""
    return re.findall(r"\s*\S+", text)


# --------------------------------------------------------------------------- requests


@dataclass
class Image:
    mime: str | None = None
    data: str | None = None
    url: str | None = None


@dataclass
class Message:
    """A message normalised across protocols: its role, joined text parts and images."""

    role: str
    text: str = ""
    images: list[Image] = field(default_factory=list)


@dataclass
class Turn:
    """One parsed chat request, independent of the protocol it came in."""

    model: str
    messages: list[Message]
    stream: bool
    include_usage: bool = False
    max_tokens: int | None = None

    @property
    def last_user_text(self) -> str:
        return next((m.text for m in reversed(self.messages) if m.role == "user"), "")

    @property
    def asks_for_a_title(self) -> bool:
        return any(m.role == "system" and "title" in m.text for m in self.messages)

    @property
    def asks_for_a_summary(self) -> bool:
        return any(m.role == "system" and "Write a summary" in m.text for m in self.messages)

    @property
    def prompt_tokens(self) -> int:
        return sum(len(m.text.split()) for m in self.messages)


@dataclass
class Reply:
    """The planned answer to a turn, plus stream progress used for usage counts."""

    turn: Turn
    chunks: list[str]
    finish: Finish
    id: str = field(default_factory=lambda: secrets.token_hex(12))
    created: int = field(default_factory=lambda: int(time.time()))
    sent: int = 0

    @classmethod
    def plan(cls, turn: Turn, script: Script) -> Reply:
        text = script.reply_text(
            turn.model, titling=turn.asks_for_a_title, summarizing=turn.asks_for_a_summary
        )
        chunks = split_words(text)
        if turn.max_tokens is not None and len(chunks) > turn.max_tokens:
            return cls(turn, chunks[: turn.max_tokens], "length")
        return cls(turn, chunks, "stop")

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def completion_tokens(self) -> int:
        return self.sent or len(self.chunks)


def _openai_prompt_tokens(turn: Turn, window: int) -> int:
    """A prompt's size in tokens, 4 a message and 765 an image at high detail. OpenAI counts
    GPT-4o's text in o200k, which tiktoken would fetch from the internet: this counts in cl100k,
    the encoding LiteLLM bundles, within a few percent of it. Short prompts are taken as they are,
    in bytes: a token is at least a byte."""
    images = 765 * sum(len(m.images) for m in turn.messages)
    upper = sum(len(m.text.encode()) + 4 for m in turn.messages) + images
    if upper <= window:
        return upper
    from chat_app.services.litellm_loader import load_litellm

    count = load_litellm().token_counter
    return sum(count(model="gpt-4o", text=m.text) + 4 for m in turn.messages if m.text) + images


def _data_url_image(url: str) -> Image:
    match = re.match(r"data:([^;,]+)?(?:;base64)?,(.*)", url, re.S)
    return Image(mime=match[1], data=match[2], url=url) if match else Image(url=url)


def _sniff_image(data: str) -> Image:
    """Ollama sends bare base64; guess the type from the magic bytes like a server would."""
    mime = {"iVBOR": "image/png", "/9j/": "image/jpeg", "R0lGOD": "image/gif", "UklGR": "image/webp"}
    return Image(mime=next((m for p, m in mime.items() if data.startswith(p)), None), data=data)


def _parts_message(role: Any, content: Any, image: Callable[[dict[str, Any]], Image | None]) -> Message:
    """OpenAI/Anthropic message content: a plain string, or typed parts (``text`` plus images)."""
    if isinstance(content, str):
        return Message(str(role or ""), content)
    parts: list[dict[str, Any]] = content or []
    texts = [part.get("text", "") for part in parts if part.get("type") == "text"]
    return Message(str(role or ""), "\n".join(texts), [i for part in parts if (i := image(part)) is not None])


def _iso_now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- framing


def sse(data: Any, event: str | None = None, eol: str = "\n") -> bytes:
    """One Server-Sent Event; ``data`` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}{eol}" if event else ""
    return f"{head}data: {payload}{eol}{eol}".encode()


def ndjson(obj: Any) -> bytes:
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


# --------------------------------------------------------------------------- protocols


class Protocol:
    """One provider's wire format. The shared driver (``_handle``/``_stream``) does the rest."""

    name: ClassVar[str]
    stream_media_type: ClassVar[str] = "text/event-stream"
    finish_names: ClassVar[dict[str, str]] = {"stop": "stop", "length": "length"}

    # -- request side
    def parse(self, request: Request, body: dict[str, Any]) -> Turn:
        raise NotImplementedError

    def api_key(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def reject(self, request: Request, turn: Turn) -> Response | None:
        """The provider's response to missing/invalid credentials or headers, else ``None``."""
        key = self.api_key(request)
        if not key:
            return self.missing_key(turn.model)
        return self.error(401, turn.model) if key == BAD_KEY else None

    def missing_key(self, model: str) -> Response:
        return self.error(401, model)

    def error(self, status: int, model: str) -> Response:
        """The provider's real error response for an HTTP status."""
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    # -- response side
    def opening(self, reply: Reply) -> Iterable[bytes]:
        return ()

    def delta(self, reply: Reply, text: str) -> bytes:
        raise NotImplementedError

    def closing(self, reply: Reply) -> Iterable[bytes]:
        raise NotImplementedError

    def badline(self) -> bytes:
        return b"data: {not json\n\n"

    def complete(self, reply: Reply) -> dict[str, Any]:
        raise NotImplementedError


class OpenAIProtocol(Protocol):
    """OpenAI ``chat.completion(.chunk)`` objects; DeepSeek speaks exactly the same."""

    name = "openai"
    _errors: ClassVar[dict[int, tuple[str, str | None, str]]] = {
        400: ("invalid_request_error", None, "Invalid request."),
        401: (
            "invalid_request_error",
            "invalid_api_key",
            "Incorrect API key provided: {key}. "
            "You can find your API key at https://platform.openai.com/account/api-keys.",
        ),
        403: (
            "invalid_request_error",
            "unsupported_country_region_territory",
            "Country, region, or territory not supported",
        ),
        404: (
            "invalid_request_error",
            "model_not_found",
            "The model `{model}` does not exist or you do not have access to it.",
        ),
        429: (
            "requests",
            "rate_limit_exceeded",
            "Rate limit reached for {model} on requests per min "
            "(RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
        ),
        500: (
            "server_error",
            None,
            "The server had an error while processing your request. Sorry about that!",
        ),
        503: ("server_error", None, "The engine is currently overloaded, please try again later"),
    }

    # Context windows as OpenAI states them, for the models tests send long chats to.
    windows: ClassVar[dict[str, int]] = {"gpt-4o": 128_000, "gpt-4o-mini": 128_000}

    def reject(self, request: Request, turn: Turn) -> Response | None:
        refused = super().reject(request, turn)
        window = self.windows.get(turn.model)
        if refused is not None or window is None:
            return refused
        used = _openai_prompt_tokens(turn, window)
        if used <= window:
            return None
        message = (
            f"This model's maximum context length is {window} tokens. However, your messages "
            f"resulted in {used} tokens. Please reduce the length of the messages."
        )
        body = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        }
        return JSONResponse(body, 400, headers=self.headers())

    def parse(self, request: Request, body: dict[str, Any]) -> Turn:
        messages = [
            _parts_message(m.get("role"), m.get("content"), self._image) for m in body.get("messages", [])
        ]
        options = body.get("stream_options") or {}
        return Turn(
            model=str(body.get("model", "")),
            messages=messages,
            stream=bool(body.get("stream")),
            include_usage=bool(options.get("include_usage")),
            max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        )

    @staticmethod
    def _image(part: dict[str, Any]) -> Image | None:
        if part.get("type") != "image_url":
            return None
        image_url = part.get("image_url")
        return _data_url_image(image_url.get("url", "") if isinstance(image_url, dict) else str(image_url))

    def missing_key(self, model: str) -> Response:
        return self._error_body(
            401,
            "invalid_request_error",
            None,
            "You didn't provide an API key. You need to "
            "provide your API key in an Authorization header using Bearer auth (i.e. "
            "Authorization: Bearer YOUR_KEY).",
        )

    def error(self, status: int, model: str) -> Response:
        kind, code, text = self._errors.get(status, ("server_error", None, "Unexpected error."))
        return self._error_body(status, kind, code, text.format(model=model, key=BAD_KEY))

    def _error_body(self, status: int, kind: str, code: str | None, text: str) -> Response:
        body = {"error": {"message": text, "type": kind, "param": None, "code": code}}
        return JSONResponse(body, status, headers=self.headers())

    def headers(self) -> dict[str, str]:
        return {
            "x-request-id": f"req_{secrets.token_hex(16)}",
            "openai-processing-ms": "12",
            "openai-version": "2020-10-01",
        }

    def _chunk(self, reply: Reply, delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk: dict[str, Any] = {
            "id": f"chatcmpl-{reply.id}",
            "object": "chat.completion.chunk",
            "created": reply.created,
            "model": reply.turn.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if reply.turn.include_usage:
            chunk["usage"] = None
        return sse(chunk)

    def _usage(self, reply: Reply) -> dict[str, int]:
        prompt, completion = reply.turn.prompt_tokens, reply.completion_tokens
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def opening(self, reply: Reply) -> Iterable[bytes]:
        yield self._chunk(reply, {"role": "assistant", "content": "", "refusal": None})

    def delta(self, reply: Reply, text: str) -> bytes:
        return self._chunk(reply, {"content": text})

    def closing(self, reply: Reply) -> Iterable[bytes]:
        yield self._chunk(reply, {}, self.finish_names[reply.finish])
        if reply.turn.include_usage:
            yield sse(
                {
                    "id": f"chatcmpl-{reply.id}",
                    "object": "chat.completion.chunk",
                    "created": reply.created,
                    "model": reply.turn.model,
                    "system_fingerprint": "fp_fake",
                    "choices": [],
                    "usage": self._usage(reply),
                }
            )
        yield sse("[DONE]")

    def complete(self, reply: Reply) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{reply.id}",
            "object": "chat.completion",
            "created": reply.created,
            "model": reply.turn.model,
            "system_fingerprint": "fp_fake",
            "service_tier": "default",
            "choices": [
                {
                    "index": 0,
                    "logprobs": None,
                    "finish_reason": self.finish_names[reply.finish],
                    "message": {
                        "role": "assistant",
                        "content": reply.text,
                        "refusal": None,
                        "annotations": [],
                    },
                }
            ],
            "usage": self._usage(reply),
        }


class AnthropicProtocol(Protocol):
    """Anthropic Messages API: named SSE events, ``x-api-key`` auth, top-level ``system``."""

    name = "anthropic"
    finish_names = {"stop": "end_turn", "length": "max_tokens"}
    _errors: ClassVar[dict[int, tuple[str, str]]] = {
        400: ("invalid_request_error", "Invalid request."),
        401: ("authentication_error", "invalid x-api-key"),
        403: ("permission_error", "Your API key does not have permission to use the specified resource."),
        404: ("not_found_error", "model: {model}"),
        413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
        429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
        500: ("api_error", "Internal server error"),
        529: ("overloaded_error", "Overloaded"),
    }

    def parse(self, request: Request, body: dict[str, Any]) -> Turn:
        messages = [
            _parts_message(m.get("role"), m.get("content"), self._image) for m in body.get("messages", [])
        ]
        if body.get("system"):
            messages.insert(0, _parts_message("system", body["system"], self._image))
        return Turn(
            model=str(body.get("model", "")),
            messages=messages,
            stream=bool(body.get("stream")),
            include_usage=True,
            max_tokens=body.get("max_tokens"),
        )

    @staticmethod
    def _image(block: dict[str, Any]) -> Image | None:
        if block.get("type") != "image":
            return None
        source = block.get("source", {})
        return Image(mime=source.get("media_type"), data=source.get("data"), url=source.get("url"))

    def api_key(self, request: Request) -> str | None:
        return request.headers.get("x-api-key") or super().api_key(request)

    def reject(self, request: Request, turn: Turn) -> Response | None:
        if not request.headers.get("anthropic-version"):
            return self._error_body(400, "invalid_request_error", "anthropic-version: header is required")
        return super().reject(request, turn)

    def missing_key(self, model: str) -> Response:
        return self._error_body(401, "authentication_error", "x-api-key header is required")

    def error(self, status: int, model: str) -> Response:
        kind, text = self._errors.get(status, ("api_error", "Internal server error"))
        return self._error_body(status, kind, text.format(model=model))

    def _error_body(self, status: int, kind: str, text: str) -> Response:
        headers = self.headers() | ({"retry-after": "1"} if status == 429 else {})
        body = {
            "type": "error",
            "error": {"type": kind, "message": text},
            "request_id": headers["request-id"],
        }
        return JSONResponse(body, status, headers=headers)

    def headers(self) -> dict[str, str]:
        return {"request-id": f"req_{secrets.token_hex(12)}", "cache-control": "no-cache"}

    def _message_object(
        self, reply: Reply, content: list[dict[str, Any]], stop: str | None, output_tokens: int
    ) -> dict[str, Any]:
        return {
            "id": f"msg_{reply.id}",
            "type": "message",
            "role": "assistant",
            "model": reply.turn.model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": reply.turn.prompt_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": output_tokens,
            },
        }

    def opening(self, reply: Reply) -> Iterable[bytes]:
        message = self._message_object(reply, [], None, 1)
        yield sse({"type": "message_start", "message": message}, "message_start")
        yield sse(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        )
        yield sse({"type": "ping"}, "ping")

    def delta(self, reply: Reply, text: str) -> bytes:
        return sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
            "content_block_delta",
        )

    def closing(self, reply: Reply) -> Iterable[bytes]:
        yield sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        yield sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": self.finish_names[reply.finish], "stop_sequence": None},
                "usage": {"output_tokens": reply.completion_tokens},
            },
            "message_delta",
        )
        yield sse({"type": "message_stop"}, "message_stop")

    def badline(self) -> bytes:
        return b"event: content_block_delta\ndata: {not json\n\n"

    def complete(self, reply: Reply) -> dict[str, Any]:
        return self._message_object(
            reply,
            [{"type": "text", "text": reply.text}],
            self.finish_names[reply.finish],
            reply.completion_tokens,
        )


class GeminiProtocol(Protocol):
    """Google AI Studio ``generateContent``: contents/parts, ``x-goog-api-key`` or ``?key=``."""

    name = "gemini"
    finish_names = {"stop": "STOP", "length": "MAX_TOKENS"}
    _errors: ClassVar[dict[int, tuple[str, str]]] = {
        400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
        401: (
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        ),
        403: (
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established "
            "identity). Please use API Key or other form of API consumer identity to call this API.",
        ),
        404: (
            "NOT_FOUND",
            "models/{model} is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models and their supported "
            "methods.",
        ),
        429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        500: (
            "INTERNAL",
            "An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting",
        ),
        503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    }

    def parse(self, request: Request, body: dict[str, Any]) -> Turn:
        messages = [self._message(c) for c in body.get("contents", [])]
        system = body.get("system_instruction") or body.get("systemInstruction")
        if system:
            messages.insert(0, self._message({**system, "role": "system"}))
        config = body.get("generationConfig") or body.get("generation_config") or {}
        model, _, method = request.path_params["target"].rpartition(":")
        return Turn(
            model=model,
            messages=messages,
            stream=method == "streamGenerateContent",
            include_usage=True,
            max_tokens=config.get("maxOutputTokens") or config.get("max_output_tokens"),
        )

    @staticmethod
    def _message(raw: dict[str, Any]) -> Message:
        role = str(raw.get("role") or "user")
        message = Message(role="assistant" if role == "model" else role)
        texts: list[str] = []
        for part in raw.get("parts", []):
            if "text" in part:
                texts.append(part["text"])
            inline = part.get("inline_data") or part.get("inlineData")
            if inline:
                message.images.append(
                    Image(mime=inline.get("mime_type") or inline.get("mimeType"), data=inline.get("data"))
                )
            file = part.get("file_data") or part.get("fileData")
            if file:
                message.images.append(
                    Image(
                        mime=file.get("mime_type") or file.get("mimeType"),
                        url=file.get("file_uri") or file.get("fileUri"),
                    )
                )
        message.text = "\n".join(texts)
        return message

    def api_key(self, request: Request) -> str | None:
        return request.headers.get("x-goog-api-key") or request.query_params.get("key")

    def reject(self, request: Request, turn: Turn) -> Response | None:
        if self.api_key(request) == BAD_KEY:  # Google answers a wrong key with 400, not 401
            return self._error_body(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    }
                ],
            )
        return super().reject(request, turn)

    def missing_key(self, model: str) -> Response:
        return self.error(403, model)

    def error(self, status: int, model: str) -> Response:
        kind, text = self._errors.get(status, ("UNKNOWN", "Unknown error."))
        return self._error_body(status, kind, text.format(model=model))

    @staticmethod
    def _error_body(
        status: int, kind: str, text: str, details: list[dict[str, Any]] | None = None
    ) -> Response:
        error: dict[str, Any] = {"code": status, "message": text, "status": kind}
        if details:
            error["details"] = details
        return JSONResponse({"error": error}, status)

    def _usage(self, reply: Reply, final: bool) -> dict[str, Any]:
        prompt = reply.turn.prompt_tokens
        usage: dict[str, Any] = {
            "promptTokenCount": prompt,
            "totalTokenCount": prompt,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        }
        if final:
            usage |= {
                "candidatesTokenCount": reply.completion_tokens,
                "totalTokenCount": prompt + reply.completion_tokens,
            }
        return usage

    def _response(self, reply: Reply, text: str, finish: str | None) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": self._usage(reply, final=finish is not None),
            "modelVersion": reply.turn.model,
            "responseId": reply.id,
        }

    def delta(self, reply: Reply, text: str) -> bytes:
        return sse(self._response(reply, text, None), eol="\r\n")

    def closing(self, reply: Reply) -> Iterable[bytes]:
        yield sse(self._response(reply, "", self.finish_names[reply.finish]), eol="\r\n")

    def badline(self) -> bytes:
        return b"data: {not json\r\n\r\n"

    def complete(self, reply: Reply) -> dict[str, Any]:
        return self._response(reply, reply.text, self.finish_names[reply.finish])


class OllamaChatProtocol(Protocol):
    """Ollama ``/api/chat``: NDJSON lines, ``images`` as bare base64, no auth unless a key is sent."""

    name = "ollama"
    stream_media_type = "application/x-ndjson"

    def parse(self, request: Request, body: dict[str, Any]) -> Turn:
        messages = [
            Message(
                role=str(m.get("role", "")),
                text=str(m.get("content") or ""),
                images=[_sniff_image(i) for i in m.get("images") or []],
            )
            for m in body.get("messages", [])
        ]
        return self._turn(body, messages)

    @staticmethod
    def _turn(body: dict[str, Any], messages: list[Message]) -> Turn:
        options = body.get("options") or {}
        return Turn(
            model=str(body.get("model", "")),
            messages=messages,
            stream=body.get("stream", True) is not False,
            include_usage=True,
            max_tokens=options.get("num_predict"),
        )

    def reject(self, request: Request, turn: Turn) -> Response | None:
        return self.error(401, turn.model) if self.api_key(request) == BAD_KEY else None

    def error(self, status: int, model: str) -> Response:
        text = {
            400: "invalid request",
            401: "unauthorized",
            404: f"model '{model}' not found",
            429: "too many requests",
            503: "server busy, please try again.  maximum pending requests exceeded",
        }
        return JSONResponse(
            {"error": text.get(status, "an error was encountered while running the model")}, status
        )

    def _line(self, reply: Reply, text: str, done: bool) -> dict[str, Any]:
        return {
            "model": reply.turn.model,
            "created_at": _iso_now(),
            "message": {"role": "assistant", "content": text},
            "done": done,
        }

    def _final(self, reply: Reply, text: str) -> dict[str, Any]:
        return self._line(reply, text, True) | {
            "done_reason": self.finish_names[reply.finish],
            "total_duration": 512_345_678,
            "load_duration": 12_345_678,
            "prompt_eval_count": reply.turn.prompt_tokens,
            "prompt_eval_duration": 45_678_901,
            "eval_count": reply.completion_tokens,
            "eval_duration": 401_234_567,
        }

    def delta(self, reply: Reply, text: str) -> bytes:
        return ndjson(self._line(reply, text, False))

    def closing(self, reply: Reply) -> Iterable[bytes]:
        yield ndjson(self._final(reply, ""))

    def badline(self) -> bytes:
        return b"{not json\n"

    def complete(self, reply: Reply) -> dict[str, Any]:
        return self._final(reply, reply.text)


class OllamaGenerateProtocol(OllamaChatProtocol):
    """Ollama `/api/generate` (LiteLLM's `ollama/` prefix): one flattened `prompt` in, `response` out."""

    name = "ollama_generate"

    def parse(self, request: Request, body: dict[str, Any]) -> Turn:
        images = [_sniff_image(i) for i in body.get("images") or []]
        return self._turn(body, [Message(role="user", text=str(body.get("prompt", "")), images=images)])

    def _line(self, reply: Reply, text: str, done: bool) -> dict[str, Any]:
        return {"model": reply.turn.model, "created_at": _iso_now(), "response": text, "done": done}

    def _final(self, reply: Reply, text: str) -> dict[str, Any]:
        return super()._final(reply, text) | {"context": [1, 2, 3]}


# --------------------------------------------------------------------------- driver


async def _stream(
    proto: Protocol, reply: Reply, script: Script, record: dict[str, Any]
) -> AsyncIterator[bytes]:
    """Emit a scripted stream: opening frames at once, timed content chunks, then the finish.

    The request's record notes how the stream ended: when, after how many chunks, and whether
    it was finished or the client went away (a stopped reply).
    """
    ending = record["stream"] = {"ended_at": None, "sent": 0, "finished": False}
    try:
        for frame in proto.opening(reply):
            yield frame
        if script.first_delay:
            await asyncio.sleep(script.first_delay)
        chunks = reply.chunks[: max(1, len(reply.chunks) // 2)] if script.cut else reply.chunks
        due = time.monotonic()
        for index, text in enumerate(chunks):
            if index:
                # Each chunk is due `delay` after the last one was due, as a model writes at its own
                # pace: a late wake-up (this process shares the machine with the client) is not
                # added to every chunk after it.
                due += script.delay
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            reply.sent += 1
            yield proto.delta(reply, f"{text}@{time.time():.3f}" if script.stamp else text)
            if script.badline and index == min(1, len(chunks) - 1):
                yield proto.badline()
            if index == 0 and script.stall:
                await asyncio.sleep(script.stall)
                due = time.monotonic()
        if not script.cut:
            *frames, last = proto.closing(reply)
            for frame in frames:
                yield frame
            if script.linger:
                await asyncio.sleep(script.linger)
            yield last
        ending["finished"] = True
    finally:
        ending["ended_at"], ending["sent"] = time.time(), reply.sent


def _remember(
    request: Request,
    provider: str,
    body: Any,
    turn: Turn | None = None,
    kind: Literal["chat", "meta"] = "chat",
) -> dict[str, Any]:
    """Append one request record to the app's shared list (what tests assert on)."""
    record = {
        "provider": provider,
        "kind": kind,
        "method": request.method,
        "path": request.url.path,
        "query": dict(request.query_params),
        "headers": dict(request.headers),
        "json": body,
        "model": turn.model if turn else None,
        "messages": [asdict(m) for m in turn.messages] if turn else [],
    }
    request.app.state.requests.append(record)
    return record


async def _handle(proto: Protocol, request: Request) -> Response:
    try:
        body = await request.json()
        turn = proto.parse(request, body)
    except (ValueError, AttributeError, TypeError, KeyError):
        _remember(request, proto.name, None)
        return proto.error(400, "")
    record = _remember(request, proto.name, body, turn)
    if (rejection := proto.reject(request, turn)) is not None:
        return rejection
    script = Script.parse(turn.last_user_text)
    if script.error:
        return proto.error(script.error, turn.model)
    reply = Reply.plan(turn, script)
    if not turn.stream:
        await asyncio.sleep(script.first_delay)
        return JSONResponse(proto.complete(reply), headers=proto.headers())
    return StreamingResponse(
        _stream(proto, reply, script, record), media_type=proto.stream_media_type, headers=proto.headers()
    )


def _endpoint(proto: Protocol) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _handle(proto, request)

    return endpoint


_GEMINI = GeminiProtocol()


async def _gemini(request: Request) -> Response:
    """``models/{model}:{method}`` cannot be a plain route, so dispatch on the method here."""
    model, _, method = request.path_params["target"].rpartition(":")
    if method not in ("generateContent", "streamGenerateContent"):
        return _GEMINI.error(404, model or method)
    return await _handle(_GEMINI, request)


def _ollama_model(name: str) -> dict[str, Any]:
    family = name.split(":")[0].rstrip("0123456789.") or "llama"
    size = "3.2B" if name.startswith("llama") else "494.03M"
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-01-15T10:20:30.123456789Z",
        "size": 2_019_393_189 if size == "3.2B" else 397_821_319,
        "digest": secrets.token_hex(32),
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": size,
            "quantization_level": "Q4_K_M",
        },
    }


async def _ollama_tags(request: Request) -> Response:
    _remember(request, "ollama", None, kind="meta")
    return JSONResponse({"models": [_ollama_model(name) for name in OLLAMA_MODELS]})


async def _ollama_show(request: Request) -> Response:
    """Model details; LiteLLM calls this to learn context length and tool support."""
    body = await request.json()
    _remember(request, "ollama", body, kind="meta")
    name = str(body.get("model") or body.get("name") or "")
    model = _ollama_model(name if ":" in name else f"{name}:latest")
    return JSONResponse(
        {
            "modelfile": f"FROM {model['name']}",
            "parameters": 'stop "<|eot_id|>"',
            "template": "{{- if .Tools }}tools{{ end }}{{ .Prompt }}",
            "details": model["details"],
            "model_info": {
                "general.architecture": model["details"]["family"],
                f"{model['details']['family']}.context_length": 131072,
            },
            "capabilities": ["completion", "tools"],
            "modified_at": model["modified_at"],
        }
    )


async def _ollama_root(request: Request) -> Response:
    return PlainTextResponse("Ollama is running")


async def _ollama_version(request: Request) -> Response:
    return JSONResponse({"version": "0.6.5"})


def create_app(requests: list[dict[str, Any]] | None = None) -> Starlette:
    """The ASGI app; ``requests`` (shared with the runner) receives one record per request."""
    openai, anthropic = _endpoint(OpenAIProtocol()), _endpoint(AnthropicProtocol())
    app = Starlette(
        routes=[
            Route("/v1/chat/completions", openai, methods=["POST"]),
            Route("/chat/completions", openai, methods=["POST"]),
            Route("/v1/messages", anthropic, methods=["POST"]),
            Route("/v1beta/models/{target:path}", _gemini, methods=["POST"]),
            Route("/v1/models/{target:path}", _gemini, methods=["POST"]),
            Route("/api/chat", _endpoint(OllamaChatProtocol()), methods=["POST"]),
            Route("/api/generate", _endpoint(OllamaGenerateProtocol()), methods=["POST"]),
            Route("/api/tags", _ollama_tags, methods=["GET"]),
            Route("/api/show", _ollama_show, methods=["POST"]),
            Route("/api/version", _ollama_version, methods=["GET"]),
            Route("/", _ollama_root, methods=["GET", "HEAD"]),
        ]
    )
    app.state.requests = requests if requests is not None else []
    return app


# --------------------------------------------------------------------------- runner


class FakeProviders(BackgroundServer):
    """Runs the fake app with uvicorn in a background thread, e.g. ``with FakeProviders() as fake:``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._requests: list[dict[str, Any]] = []
        super().__init__(create_app(self._requests), name="fake-providers", host=host, port=port)

    @property
    def base_url(self) -> str:
        return self.url

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._requests

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """Only chat calls: LiteLLM also POSTs Ollama's /api/show after each call (recorded as "meta")."""
        return [r for r in self._requests if r["kind"] == "chat"]

    def clear(self) -> None:
        self._requests.clear()

    def env(self) -> dict[str, str]:
        return provider_env(self.base_url)


def provider_env(base_url: str) -> dict[str, str]:
    """Environment variables (LiteLLM's standard names) that point every provider at a fake."""
    return {
        "OPENAI_API_KEY": "sk-fake-openai",
        "OPENAI_API_BASE": f"{base_url}/v1",
        "ANTHROPIC_API_KEY": "sk-ant-fake",
        "ANTHROPIC_API_BASE": base_url,
        "GEMINI_API_KEY": "fake-gemini-key",
        "GEMINI_API_BASE": f"{base_url}/v1beta",
        "DEEPSEEK_API_KEY": "sk-fake-deepseek",
        "DEEPSEEK_API_BASE": base_url,
        "OLLAMA_API_BASE": base_url,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve fake OpenAI/Anthropic/Gemini/Ollama endpoints.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--access-log", action="store_true", help="log every request (slows benchmarks)")
    args = parser.parse_args()
    print(f"Fake providers on http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    uvicorn.run(create_app(), host=args.host, port=args.port, lifespan="off", access_log=args.access_log)


if __name__ == "__main__":
    main()
