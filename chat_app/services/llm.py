"""Token streams from text providers through LiteLLM, guarded by our own deadlines.

LiteLLM does not apply its `timeout` to every provider's stream, and some providers
end a broken stream as if it were complete, so both are checked here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chat_app.catalog import CatalogModel
from chat_app.services import wire
from chat_app.services.litellm_loader import load_litellm
from chat_app.services.providers import call_options, provider_label

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadlines:
    first_token: float = 60.0  # seconds from the request to the first text
    chunk_gap: float = 30.0  # longest silence between chunks
    total: float = 600.0  # the whole reply


def configured_deadlines() -> Deadlines:
    """The deadlines the operator configured (LLM_*_TIMEOUT)."""
    from chat_app.settings import get_settings

    s = get_settings()
    return Deadlines(s.first_token_timeout, s.chunk_gap_timeout, s.total_timeout)


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class TextDone:
    """The provider finished the text (`finish_reason`): no more of it will come. The stream goes
    on only for the provider's count of tokens, which LiteLLM hands over after rebuilding the
    whole response from its pieces (25 ms for 100 tokens, half a second for 4,000)."""

    finish_reason: str


@dataclass(frozen=True)
class Finished:
    finish_reason: str
    input_tokens: int | None
    output_tokens: int | None


StreamEvent = TextDelta | TextDone | Finished


class ProviderError(Exception):
    """A provider failure, said as a sentence for people; `kind` names it for the metrics
    (rejected_key, rate_limited, timeout, unreachable, broken, refused, server_error, failed)."""

    def __init__(self, message: str, kind: str = "failed") -> None:
        super().__init__(message)
        self.kind = kind


def provider_error(exc: BaseException, provider_label: str) -> ProviderError:
    """The ProviderError for a failed provider call: one sentence without secrets, and its kind."""
    if isinstance(exc, ProviderError):
        return exc
    litellm = load_litellm()
    # LiteLLM wraps some failures (e.g. Gemini's 429 and 5xx) in a mid-stream fallback error.
    inner = getattr(exc, "original_exception", None)
    if isinstance(inner, Exception) and inner is not exc:
        return provider_error(inner, provider_label)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, litellm.AuthenticationError):
        return ProviderError(
            f"{provider_label} rejected the API key (401). Check the key configured for it.", "rejected_key"
        )
    if isinstance(exc, litellm.RateLimitError):
        return ProviderError(
            f"{provider_label} is rate limiting requests (429). Wait a moment, then retry.", "rate_limited"
        )
    if isinstance(exc, litellm.Timeout):
        return ProviderError(f"{provider_label} did not answer in time. Retry in a moment.", "timeout")
    failure = _connection_failure(exc)  # LiteLLM reports these as status 500, though no answer came
    if failure == "connect":
        return ProviderError(
            f"{provider_label} could not be reached. Check that it is running and retry.", "unreachable"
        )
    if failure == "broken":
        return ProviderError(f"The connection to {provider_label} broke. Retry in a moment.", "broken")
    if isinstance(exc, litellm.BadRequestError):
        return ProviderError(f"{provider_label} refused the request (400).", "refused")
    if status and int(status) >= 500:
        return ProviderError(
            f"{provider_label} had a server error ({status}). Retry in a moment.", "server_error"
        )
    if status:
        return ProviderError(f"{provider_label} answered with an error ({status}).", "refused")
    return ProviderError(f"{provider_label} failed unexpectedly. Retry in a moment.")


# aiohttp's names (LiteLLM's default transport) for a connection the other side closed
_CLOSED_BY_PEER = frozenset({"ServerDisconnectedError", "ClientConnectionResetError"})


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def _causes(exc: BaseException) -> str:
    """For the log: what failed, down to the socket (LiteLLM's own message hides it)."""
    return " <- ".join(f"{type(e).__name__}: {e}"[:200] for e in _cause_chain(exc))


def _connection_failure(exc: BaseException) -> str:
    """ "connect" when no connection was made, "broken" when it failed on the way, else "", whatever
    LiteLLM calls the error: its cause chain holds the SDK's, httpx's and the socket's errors."""
    import httpx
    import openai

    chain = _cause_chain(exc)
    if any(isinstance(e, (openai.APITimeoutError, httpx.TimeoutException)) for e in chain):
        return ""
    # A connection the provider reset or closed (a pooled one it had just dropped) was made, even
    # when the transport calls the failure a ConnectError.
    if any(isinstance(e, ConnectionResetError) or type(e).__name__ in _CLOSED_BY_PEER for e in chain):
        return "broken"
    if any(isinstance(e, (httpx.ConnectError, ConnectionRefusedError)) for e in chain):
        return "connect"
    if any(isinstance(e, (httpx.TransportError, openai.APIConnectionError, ConnectionError)) for e in chain):
        return "broken"
    return ""


class _ReplyTimer:
    """One reply's three deadlines: how long the next wait may take, and what to say when it ran out."""

    def __init__(self, deadlines: Deadlines, label: str):
        self.deadlines, self.label = deadlines, label
        self.started = time.monotonic()
        self.got_text = False  # until the first text the first-token deadline applies, then the gap

    def time_left(self) -> float:
        """Seconds the next wait may take; ProviderError when the whole reply is out of time."""
        left = self.deadlines.total - (time.monotonic() - self.started)
        if left <= 0:
            raise self._cut_off()
        if self.got_text:
            step = self.deadlines.chunk_gap
        else:
            step = self.deadlines.first_token - (time.monotonic() - self.started)
        return max(0.0, min(left, step))

    def expired(self) -> ProviderError:
        """The error for a wait that ran out: which deadline passed, said for people."""
        if time.monotonic() - self.started >= self.deadlines.total:
            return self._cut_off()
        if self.got_text:
            return ProviderError(
                f"{self.label} stopped sending for {self.deadlines.chunk_gap:.0f} s; the reply was cut off.",
                "timeout",
            )
        return self.no_start()

    def no_start(self) -> ProviderError:
        return ProviderError(
            f"{self.label} did not start answering within {self.deadlines.first_token:.0f} s.", "timeout"
        )

    def _cut_off(self) -> ProviderError:
        return ProviderError(
            f"{self.label} took longer than {self.deadlines.total:.0f} s; the reply was cut off.", "timeout"
        )


class _TimedChunks:
    """A provider's stream whose every chunk is awaited no longer than the timer allows.

    Failures come out as ProviderError sentences. A plain iterator, not a generator: it runs for
    every token of every reply.
    """

    def __init__(self, stream, timer: _ReplyTimer):
        self._chunks = stream.__aiter__()
        self._timer = timer

    def __aiter__(self) -> _TimedChunks:
        return self

    async def __anext__(self):
        try:
            # asyncio.timeout, not wait_for: no task per chunk
            async with asyncio.timeout(self._timer.time_left()):
                return await self._chunks.__anext__()
        except TimeoutError:
            raise self._timer.expired() from None
        except (StopAsyncIteration, ProviderError):
            raise
        except Exception as exc:
            log.warning("%s stream failed: %s", self._timer.label, _causes(exc))
            raise provider_error(exc, self._timer.label) from exc


# A burst of sends after a quiet spell can draw several pooled connections the provider closed
# at once (its idle timeout is shorter than the pool's); each such failure is immediate.
_STALE_CONNECTIONS_TRIED = 3


async def _open_stream(request: Callable[[], Awaitable], timer: _ReplyTimer):
    """Send the request within the first-token deadline; failures come out as ProviderError sentences."""
    label = timer.label
    try:
        async with asyncio.timeout(timer.time_left()):
            for _ in range(_STALE_CONNECTIONS_TRIED):
                try:
                    return await request()
                except Exception as exc:
                    if _connection_failure(exc) != "broken":
                        raise
                    # A pooled connection the provider had just closed (idle keep-alive): the
                    # request never reached it, so it is sent again at once on the pool's next one.
                    log.info("%s closed a pooled connection as it was used; sending again", label)
            return await request()
    except TimeoutError:  # the first-token deadline, or the whole reply's when it is shorter
        raise timer.expired() from None
    except Exception as exc:
        log.warning("%s request failed: %s", label, _causes(exc))
        raise provider_error(exc, label) from exc


async def stream_reply(
    model: CatalogModel,
    messages: Sequence[dict],
    *,
    deadlines: Deadlines = Deadlines(),
    own_key: str | None = None,
    max_tokens: int | None = None,
    sampling: Mapping[str, Any] | None = None,
) -> AsyncIterator[StreamEvent]:
    """Yield text deltas, one TextDone once the provider finishes the text, then exactly one
    Finished; raise ProviderError on any failure (after TextDone too: its text is whole).

    `sampling` holds OpenAI's sampling options (temperature, top_p, stop, …) a program asked for;
    one a provider does not take is left out (LiteLLM's drop_params), not refused.
    """
    litellm = load_litellm()
    label = provider_label(model)
    timer = _ReplyTimer(deadlines, label)

    # Gemini's finish signal is only visible on the wire (see wire.py).
    watch = wire.FinishWatch(b'"finishReason"') if model.provider == "gemini" else None
    extra: dict = {"client": _handler(watch)} if watch is not None else {}
    if max_tokens is not None:
        extra["max_tokens"] = max_tokens
    if sampling:
        extra.update(sampling, drop_params=True)

    def request():
        return litellm.acompletion(
            model=model.litellm_model,
            messages=list(messages),
            stream=True,
            stream_options={"include_usage": True},
            timeout=deadlines.total,
            max_retries=0,  # retrying is the person's choice (the Retry button), not a hidden delay
            **call_options(model, own_key),
            **extra,
        )

    stream = await _open_stream(request, timer)
    finish_reason: str | None = None
    text_done = False
    input_tokens = output_tokens = None
    try:
        async for chunk in _TimedChunks(stream, timer):
            usage = getattr(chunk, "usage", None)
            if usage:
                input_tokens = getattr(usage, "prompt_tokens", None) or input_tokens
                output_tokens = getattr(usage, "completion_tokens", None) or output_tokens
            for choice in chunk.choices or ():
                text = getattr(choice.delta, "content", None)
                if text:
                    timer.got_text = True
                    yield TextDelta(text)
                if choice.finish_reason:
                    finish_reason = choice.finish_reason
            # Only the provider's own finish counts (LiteLLM makes one up for a stream cut short,
            # see _provider_finish_reason), and Gemini's once its marker went by on the wire.
            if not text_done and finish_reason and (watch is None or watch.seen):
                said = _provider_finish_reason(stream, finish_reason)
                if said:
                    text_done = True
                    yield TextDone(said)
    finally:
        await _close(stream)
    finish_reason = _provider_finish_reason(stream, finish_reason)
    if watch is not None and not watch.complete:
        finish_reason = None
    if finish_reason is None:
        raise ProviderError(f"{label} ended the reply early; the answer is incomplete.")
    yield Finished(finish_reason, input_tokens, output_tokens)


def _handler(watch: wire.FinishWatch):
    """A LiteLLM HTTP handler for one call, on the shared pool, that reports the finish marker."""
    load_litellm()
    from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

    return AsyncHTTPHandler(transport=wire.watched_transport(watch))


def _provider_finish_reason(stream, seen: str | None) -> str | None:
    """The finish signal the provider really sent.

    LiteLLM's stream wrapper ends a stream that stopped without one with a made-up
    finish_reason "stop"; what the provider sent is kept on the wrapper itself.
    """
    if not hasattr(stream, "received_finish_reason"):
        return seen
    return getattr(stream, "received_finish_reason", None) or getattr(
        stream, "intermittent_finish_reason", None
    )


async def _close(stream) -> None:
    """Release the provider connection at once (also on stop and on timeout)."""
    for name in ("aclose", "close"):
        closer = getattr(stream, name, None)
        if closer is not None:
            try:
                result = closer()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                pass
            return


def reply_cost(model: CatalogModel, input_tokens: int | None, output_tokens: int | None) -> float | None:
    """Cost in USD from the catalog's prices (None when the catalog has no price)."""
    if (input_tokens is None and output_tokens is None) or (
        model.input_per_mtok is None and model.output_per_mtok is None
    ):
        return None
    return (
        (input_tokens or 0) * (model.input_per_mtok or 0)
        + (output_tokens or 0) * (model.output_per_mtok or 0)
    ) / 1_000_000
