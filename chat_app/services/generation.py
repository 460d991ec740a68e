"""Image and video generation through Replicate: create a prediction, follow it, bring the output home.

Replicate deletes outputs after an hour, so each one is downloaded into our own storage as
soon as the prediction succeeds, judged like any upload; the chat never links to Replicate.
An output's address comes from the provider, so it is fetched only from the public internet
(services/outbound.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlparse

import httpx

from chat_app.catalog import CatalogModel
from chat_app.services import media, outbound, providers
from chat_app.services.errors import Invalid
from chat_app.services.llm import ProviderError
from chat_app.services.storage import files_deleted_on_error
from chat_app.settings import get_settings

log = logging.getLogger(__name__)

TERMINAL = ("succeeded", "failed", "canceled")
_PERCENT = re.compile(r"(\d{1,3})%\|")  # tqdm progress lines, which most image/video models log


@dataclass(frozen=True)
class Progress:
    status: str  # starting | processing | downloading
    percent: int | None  # from the model's logs, when it writes them
    elapsed: float  # seconds since the prediction was created


def percent_from_logs(logs: str | None) -> int | None:
    found = _PERCENT.findall(logs or "")
    return min(int(found[-1]), 100) if found else None


def _client(model: CatalogModel, own_key: str | None):
    from replicate.client import Client  # imported when first needed, like LiteLLM

    options = providers.call_options(model, own_key)
    return Client(
        api_token=options.get("api_key"),
        base_url=options.get("api_base"),
        timeout=httpx.Timeout(30.0, connect=10.0),
    )


def _said(exc: Exception, model: CatalogModel) -> ProviderError:
    """A Replicate or network failure as a sentence for people."""
    from replicate.exceptions import ReplicateError

    if isinstance(exc, ReplicateError):
        status = exc.status or 0
        if status == 401:
            return ProviderError(
                "Replicate refused the API token. Check the server's REPLICATE_API_TOKEN "
                "or your own Replicate key in Settings.",
                "rejected_key",
            )
        if status == 402:
            return ProviderError(
                "Replicate refused to run this: the account needs billing set up.", "refused"
            )
        if status == 429:
            return ProviderError(
                "Replicate is rate-limiting requests right now. Retry in a moment.", "rate_limited"
            )
        if status == 422:
            return ProviderError(
                f"{model.name} did not accept the request: {exc.detail or exc.title}", "refused"
            )
        return ProviderError(
            f"Replicate answered with an error ({status or 'unknown'}): {exc.detail or exc.title}",
            "server_error" if status >= 500 else "refused",
        )
    if isinstance(exc, httpx.HTTPError):
        return ProviderError("Could not reach Replicate. Check the connection and retry.", "unreachable")
    return ProviderError(f"{model.name} failed: {exc}")


async def _create(client, model: CatalogModel, prompt: str):
    target = model.replicate_model or ""
    if ":" in target:  # a community model pinned to a version
        return await client.predictions.async_create(
            version=target.split(":", 1)[1], input={"prompt": prompt}
        )
    return await client.models.predictions.async_create(model=target, input={"prompt": prompt})


async def _cancel_upstream(client, prediction_id: str) -> None:
    try:
        await client.predictions.async_cancel(prediction_id)
    except Exception:
        log.warning("could not cancel prediction %s", prediction_id, exc_info=True)


async def generate(
    model: CatalogModel,
    prompt: str,
    *,
    own_key: str | None,
    on_progress: Callable[[Progress], None],
) -> list[media.Stored]:
    """Run one prediction to its end and store its outputs. Cancelling this task cancels it upstream."""
    settings = get_settings()
    client = _client(model, own_key)
    started = time.monotonic()
    try:
        prediction = await _create(client, model, prompt)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        raise _said(exc, model) from exc
    try:
        while prediction.status not in TERMINAL:
            elapsed = time.monotonic() - started
            on_progress(Progress(prediction.status, percent_from_logs(prediction.logs), elapsed))
            if elapsed > settings.generation_timeout:
                await _cancel_upstream(client, prediction.id)
                minutes = settings.generation_timeout / 60
                raise ProviderError(
                    f"{model.name} took longer than {minutes:g} minutes, so it was cancelled.", "timeout"
                )
            await asyncio.sleep(settings.generation_poll_interval)
            try:
                await prediction.async_reload()
            except Exception as exc:
                raise _said(exc, model) from exc
    except asyncio.CancelledError:
        await asyncio.shield(_cancel_upstream(client, prediction.id))
        raise
    if prediction.status == "failed":
        raise ProviderError(f"{model.name} failed: {prediction.error or 'no reason given'}")
    if prediction.status == "canceled":
        raise ProviderError("This generation was cancelled at Replicate.")
    urls = prediction.output if isinstance(prediction.output, list) else [prediction.output]
    urls = [str(u) for u in urls if u]
    if not urls:
        raise ProviderError(f"{model.name} finished without producing anything.")
    on_progress(Progress("downloading", 100, time.monotonic() - started))
    stored: list[media.Stored] = []
    written: list[str] = []  # the outputs kept so far go if a later one fails or the reply is stopped
    with files_deleted_on_error(written, on=BaseException):
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0)) as http:
            for url in urls:
                output = await download(http, url)
                stored.append(output)
                written.extend(media.storage_keys([output]))
    return stored


async def download(http: httpx.AsyncClient, url: str) -> media.Stored:
    """Stream one output into storage, judged by its content like any upload."""
    if urlparse(url).scheme not in ("http", "https"):
        raise ProviderError("The model's output is not a downloadable file.")
    name = PurePosixPath(urlparse(url).path).name or None
    try:
        async with outbound.get(http, url) as response:
            if response.status_code != 200:
                raise ProviderError(
                    f"The output could not be downloaded (HTTP {response.status_code}). Retry it."
                )
            intake = media.Intake(name, response.headers.get("content-type"))
            try:
                async for chunk in response.aiter_bytes(media.CHUNK):
                    intake.write(chunk)
            except BaseException:
                intake.discard()
                raise
        return await asyncio.to_thread(intake.finish)
    except Invalid as exc:
        raise ProviderError(f"The model's output was refused: {exc}") from exc
    except outbound.RefusedAddress as exc:
        log.warning("refused to download an output: %s", exc)
        raise ProviderError(
            "The model's output is at an address this server does not download from."
        ) from exc
    except httpx.HTTPError as exc:
        raise ProviderError("The output could not be downloaded. Retry it.") from exc


def cost(model: CatalogModel, outputs: list[media.Stored]) -> float | None:
    """Cost from the catalog: per image made, or per second of video made."""
    if model.per_image is not None:
        images = sum(1 for o in outputs if o.kind == "image")
        return model.per_image * images if images else None
    if model.per_second is not None:
        seconds = sum(o.duration or 0 for o in outputs if o.kind == "video")
        return model.per_second * seconds if seconds else None
    return None
