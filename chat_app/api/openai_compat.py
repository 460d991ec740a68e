"""OpenAI's protocol, for programs: `GET /v1/models` and `POST /v1/chat/completions` (whole, or
streamed as server-sent events), authenticated by a personal API token and answered in OpenAI's
shapes, errors included, so OpenAI's own clients, LiteLLM and the tools built on them work
unchanged. What is allowed, and what it costs, is the app's rule (services/completions.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sqlmodel import Session
from starlette.responses import JSONResponse, Response, StreamingResponse

from chat_app.api.common import retry_headers, status_of
from chat_app.api.endpoints import API_TOKEN, ErrorShape, JsonObject, Router
from chat_app.models import User
from chat_app.services import budgets, completions, llm
from chat_app.services.errors import DomainError

# A provider's failure, as the status a program can act on (429: wait and retry; 400: change the
# request); anything else is the provider's fault, not the program's: a bad gateway.
_PROVIDER_STATUS = {"rate_limited": 429, "refused": 400, "timeout": 504, "disabled": 403}
_STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # nginx passes each event on


# An error's `type` by its status. Clients that read the type rather than the status (LiteLLM
# reads "invalid_request_error" as a bad request whatever the status) need a refused token to say
# authentication_error.
_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}


def _error(message: str, status: int, code: str) -> dict[str, Any]:
    if status == 429:
        kind = "insufficient_quota" if code == budgets.MONTHLY_SPEND else "rate_limit_error"
    else:
        kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def openai_error(exc: DomainError) -> Response:
    status = status_of(exc)
    return JSONResponse(_error(str(exc), status, exc.code), status_code=status, headers=retry_headers(exc))


def _provider_failure(exc: llm.ProviderError) -> tuple[int, dict[str, Any]]:
    status = _PROVIDER_STATUS.get(exc.kind, 502)
    return status, _error(str(exc), status, exc.kind)


router = Router(credentials=API_TOKEN, errors=ErrorShape("OpenAIError", openai_error))


@router.get("/v1/models")
def list_models(user: User, session: Session) -> dict[str, Any]:
    """The text models you can use now, as OpenAI lists its models.

    `created` is 0: the catalog does not know when a model was made.
    """
    return {
        "object": "list",
        "data": [
            {"id": model["id"], "object": "model", "created": 0, "owned_by": model["provider"]["id"]}
            for model in completions.usable_models(user, session=session)
        ],
    }


async def _answer(call: completions.Call) -> Response:
    """Run the planned call (after its transaction committed): the whole reply, or its stream. A
    stream starts once the provider answered, so a provider's refusal is still an HTTP status."""
    running = completions.start(call)
    if not call.request.stream:
        try:
            text, ended = await running.whole()
        except llm.ProviderError as exc:
            status, body = _provider_failure(exc)
            return JSONResponse(body, status_code=status)
        return JSONResponse(_completion(call, text, ended))
    events = running.events()
    try:
        first = await anext(events)
    except llm.ProviderError as exc:
        status, body = _provider_failure(exc)
        return JSONResponse(body, status_code=status)
    return StreamingResponse(
        _stream(call, first, events), media_type="text/event-stream", headers=_STREAM_HEADERS
    )


@router.post("/v1/chat/completions", then=_answer)
def create_chat_completion(user: User, session: Session, body: JsonObject) -> completions.Call:
    """A reply from a text model of the catalog, whole or streamed, as OpenAI's chat completions.

    Text turns only (no tools, one choice). `"save": true` also keeps the exchange as a new chat
    of yours (its id in `chat_id`). Paid and limited like a reply in the app: your own key for the
    model's provider first, else the server's, counted against your limits and monthly allowance.
    """
    return completions.plan(user, completions.read_request(body), session=session)


def _usage(ended: completions.Ended) -> dict[str, int]:
    return {
        "prompt_tokens": ended.input_tokens,
        "completion_tokens": ended.output_tokens,
        "total_tokens": ended.input_tokens + ended.output_tokens,
    }


def _saved(ended: completions.Ended) -> dict[str, str]:
    """Our own field: the chat the exchange was kept as."""
    return {"chat_id": ended.chat_id} if ended.chat_id else {}


def _completion(call: completions.Call, text: str, ended: completions.Ended) -> dict[str, Any]:
    return {
        "id": call.id,
        "object": "chat.completion",
        "created": call.created,
        "model": call.model.id,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": ended.finish_reason,
            }
        ],
        "usage": _usage(ended),
        **_saved(ended),
    }


def _chunk(call: completions.Call, choices: list[dict[str, Any]], **extra: Any) -> bytes:
    chunk = {
        "id": call.id,
        "object": "chat.completion.chunk",
        "created": call.created,
        "model": call.model.id,
        "choices": choices,
        **({"usage": None} if call.request.include_usage else {}),
        **extra,
    }
    return _event(chunk)


def _event(data: Any) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


def _delta(
    call: completions.Call, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any
) -> bytes:
    return _chunk(
        call, [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}], **extra
    )


async def _stream(
    call: completions.Call, first: completions.Event, rest: AsyncIterator[completions.Event]
) -> AsyncIterator[bytes]:
    """OpenAI's chunks: the role, the text as it comes, the finish, the usage when asked, [DONE].
    A failure midway is an `error` event, as OpenAI sends it; the stream then ends."""
    yield _delta(call, {"role": "assistant", "content": ""})
    ended = first if isinstance(first, completions.Ended) else None
    if isinstance(first, llm.TextDelta):
        yield _delta(call, {"content": first.text})
    try:
        async for event in rest:  # after an Ended, nothing more comes
            if isinstance(event, llm.TextDelta):
                yield _delta(call, {"content": event.text})
            else:
                ended = event
    except llm.ProviderError as exc:
        yield _event(_provider_failure(exc)[1])
        return
    if ended is None:  # the call was stopped: nothing more to say
        return
    yield _delta(call, {}, ended.finish_reason, **_saved(ended))
    if call.request.include_usage:
        yield _event(
            {
                "id": call.id,
                "object": "chat.completion.chunk",
                "created": call.created,
                "model": call.model.id,
                "choices": [],
                "usage": _usage(ended),
            }
        )
    yield b"data: [DONE]\n\n"
