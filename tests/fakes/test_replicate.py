"""Drive the REAL replicate client (1.0.x) against the fake Replicate API over HTTP."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from pathlib import Path

import av
import httpx
import pytest
import replicate
from PIL import Image
from replicate.exceptions import ModelError, ReplicateError
from replicate.prediction import Prediction

from tests.fakes.replicate import BAD_TOKEN, GOOD_TOKEN, UNKNOWN_MODEL, FakeReplicate, Script, version_id
from tests.support.app_server import free_port

FLUX = "black-forest-labs/flux-schnell"
ZEROSCOPE = "anotherjesse/zeroscope-v2-xl"
FAST = "[[start_delay=0]] [[duration=0.1]]"


@pytest.fixture
def client(fake_replicate: FakeReplicate) -> replicate.Client:
    client = replicate.Client(api_token=GOOD_TOKEN, base_url=fake_replicate.url)
    client.poll_interval = 0.05
    return client


async def _poll(prediction: Prediction, timeout: float = 5.0) -> list[tuple[str, str]]:
    """Reload until terminal; returns the (status, logs) seen on the way."""
    seen = [(prediction.status, prediction.logs or "")]
    deadline = time.monotonic() + timeout
    while prediction.status not in ("succeeded", "failed", "canceled"):
        assert time.monotonic() < deadline, "prediction never finished"
        await asyncio.sleep(0.05)
        await prediction.async_reload()
        seen.append((prediction.status, prediction.logs or ""))
    return seen


async def _download(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    response.raise_for_status()
    return response


# --------------------------------------------------------------------------- lifecycle


async def test_official_model_prediction_runs_to_success(
    fake_replicate: FakeReplicate, client: replicate.Client
) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "a cat [[duration=0.5]]"}
    )
    assert prediction.status == "starting"
    assert prediction.model == FLUX
    assert prediction.version == version_id(FLUX)
    assert prediction.output is None and prediction.logs == "" and prediction.started_at is None
    assert prediction.urls == {
        "get": f"{fake_replicate.url}/v1/predictions/{prediction.id}",
        "cancel": f"{fake_replicate.url}/v1/predictions/{prediction.id}/cancel",
        "web": f"https://replicate.com/p/{prediction.id}",
    }

    seen = await _poll(prediction)
    statuses = [status for status, _ in seen]
    assert statuses[0] == "starting" and "processing" in statuses and statuses[-1] == "succeeded"
    processing_logs = [logs for status, logs in seen if status == "processing"]
    assert any("%|" in logs and "/50 [" in logs for logs in processing_logs)
    assert processing_logs == sorted(processing_logs, key=len)  # logs only grow

    assert prediction.progress is not None and prediction.progress.percentage == 1.0
    assert prediction.progress.total == 50
    assert prediction.error is None
    assert prediction.metrics and prediction.metrics["predict_time"] == pytest.approx(0.5)
    for stamp in (prediction.created_at, prediction.started_at, prediction.completed_at):
        assert stamp and stamp.endswith("Z")
    assert prediction.created_at < prediction.started_at < prediction.completed_at

    assert isinstance(prediction.output, list) and len(prediction.output) == 1
    url = prediction.output[0]
    assert url == f"{fake_replicate.url}/files/{prediction.id}-0.png"
    response = await _download(url)
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "PNG" and image.size == (64, 48)
    assert f"/files/{prediction.id}-0.png" in fake_replicate.downloads

    create = next(r for r in fake_replicate.requests if r["path"] == f"/v1/models/{FLUX}/predictions")
    assert create["method"] == "POST"
    assert create["json"] == {"input": {"prompt": "a cat [[duration=0.5]]"}}
    assert create["headers"]["authorization"] == f"Bearer {GOOD_TOKEN}"
    assert create["headers"]["user-agent"].startswith("replicate-python/")
    assert fake_replicate.predictions[prediction.id]["status"] == "succeeded"


async def test_outputs_directive_gives_several_distinct_images(client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": f"cats {FAST} [[outputs=3]]"}
    )
    await _poll(prediction)
    assert len(prediction.output) == 3 and len(set(prediction.output)) == 3
    bodies = {(await _download(url)).content for url in prediction.output}
    assert len(bodies) == 3


async def test_version_prediction_of_video_model_gives_playable_mp4(
    fake_replicate: FakeReplicate, client: replicate.Client
) -> None:
    version = fake_replicate.version_for(ZEROSCOPE)
    assert len(version) == 64
    prediction = await client.predictions.async_create(version=version, input={"prompt": f"a dog {FAST}"})
    assert prediction.status == "processing" and prediction.model == ZEROSCOPE  # start_delay=0
    await prediction.async_wait()
    assert prediction.status == "succeeded"
    assert isinstance(prediction.output, str) and prediction.output.endswith(".mp4")

    response = await _download(prediction.output)
    assert response.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(response.content)) as container:
        assert container.streams.video and container.streams.video[0].codec_context.name == "h264"
        assert container.duration and container.duration > 0
    create = next(
        r for r in fake_replicate.requests if r["method"] == "POST" and r["path"] == "/v1/predictions"
    )
    assert create["json"] == {"version": version, "input": {"prompt": f"a dog {FAST}"}}


@pytest.mark.parametrize(
    ("ref", "model", "video"),
    [
        (f"{ZEROSCOPE}:{'a' * 64}", ZEROSCOPE, True),
        ("lucataco/animate-diff", "lucataco/animate-diff", True),
        ("b" * 64, UNKNOWN_MODEL, False),
    ],
)
async def test_version_forms_pick_model_and_output_kind(
    client: replicate.Client, ref: str, model: str, video: bool
) -> None:
    prediction = await client.predictions.async_create(version=ref, input={"prompt": FAST})
    await prediction.async_wait()
    assert prediction.model == model
    assert isinstance(prediction.output, str) is video


async def test_video_directive_forces_video(client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": f"{FAST} [[video]]"}
    )
    await prediction.async_wait()
    assert isinstance(prediction.output, str) and prediction.output.endswith(".mp4")


async def test_output_url_directive_hands_back_that_address(client: replicate.Client) -> None:
    elsewhere = "http://169.254.169.254/latest/meta-data/"
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": f"{FAST} [[output_url={elsewhere}]]"}
    )
    await prediction.async_wait()
    assert prediction.output == [elsewhere]


async def test_malformed_version_is_rejected(client: replicate.Client) -> None:
    with pytest.raises(ReplicateError) as caught:
        await client.predictions.async_create(version="not a version", input={"prompt": "x"})
    assert caught.value.status == 422 and caught.value.title == "Invalid version or not permitted"


async def test_prefer_wait_blocks_until_done(fake_replicate: FakeReplicate, client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "x [[start_delay=0.05]] [[duration=0.1]]"}, wait=5
    )
    assert prediction.status == "succeeded" and prediction.output
    assert fake_replicate.requests[-1]["headers"]["prefer"] == "wait=5"


async def test_prefer_wait_that_runs_out_answers_starting(client: replicate.Client) -> None:
    started = time.monotonic()
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "x [[hang]] [[start_delay=0]]"}, wait=1
    )
    assert 0.9 < time.monotonic() - started < 3
    assert prediction.status == "starting"
    await prediction.async_reload()
    assert prediction.status == "processing"
    await prediction.async_cancel()
    assert prediction.status == "canceled"


# --------------------------------------------------------------------------- cancel and failure


async def test_cancel_a_hung_prediction(fake_replicate: FakeReplicate, client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "x [[hang]] [[start_delay=0.05]]"}
    )
    await asyncio.sleep(0.2)
    await prediction.async_reload()
    assert prediction.status == "processing" and prediction.completed_at is None

    canceled = await client.predictions.async_cancel(prediction.id)
    assert canceled.status == "canceled" and canceled.output is None
    assert canceled.completed_at and canceled.completed_at.endswith("Z")
    assert canceled.metrics and canceled.metrics["predict_time"] > 0
    assert fake_replicate.requests[-1]["path"] == f"/v1/predictions/{prediction.id}/cancel"

    await asyncio.sleep(0.1)
    again = await client.predictions.async_get(prediction.id)
    assert again.status == "canceled" and again.completed_at == canceled.completed_at
    assert again.logs == canceled.logs  # frozen at cancel time


async def test_cancel_a_finished_prediction_changes_nothing(client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(model=FLUX, input={"prompt": FAST})
    await prediction.async_wait()
    before = prediction.dict()
    canceled = await client.predictions.async_cancel(prediction.id)
    assert canceled.status == "succeeded"
    assert canceled.dict() == before


async def test_cancel_while_starting_has_no_logs(client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "x [[start_delay=5]]"}
    )
    await prediction.async_cancel()
    assert prediction.status == "canceled" and prediction.logs == "" and prediction.started_at is None


async def test_fail_directive_fails_with_cuda_error(client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": f"x {FAST} [[fail]]"}
    )
    await _poll(prediction)
    assert prediction.status == "failed" and prediction.output is None
    assert prediction.error and "CUDA out of memory" in prediction.error
    assert prediction.logs and "Traceback" in prediction.logs and "60%|" in prediction.logs
    assert prediction.completed_at is not None


def test_run_of_failing_model_raises_model_error(client: replicate.Client) -> None:
    with pytest.raises(ModelError, match="CUDA out of memory"):
        client.run(FLUX, input={"prompt": f"x {FAST} [[fail]]"})


# --------------------------------------------------------------------------- errors


async def test_bad_token_is_unauthenticated(fake_replicate: FakeReplicate) -> None:
    bad = replicate.Client(api_token=BAD_TOKEN, base_url=fake_replicate.url)
    with pytest.raises(ReplicateError) as caught:
        await bad.models.predictions.async_create(model=FLUX, input={"prompt": "x"})
    assert caught.value.status == 401
    assert caught.value.title == "Unauthenticated"
    assert caught.value.detail == "You did not pass a valid authentication token"
    with pytest.raises(ReplicateError) as caught:
        await bad.predictions.async_get("whatever")
    assert caught.value.status == 401


def test_missing_token_gets_problem_json(fake_replicate: FakeReplicate) -> None:
    response = httpx.post(f"{fake_replicate.url}/v1/predictions", json={"version": "a" * 64, "input": {}})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "title": "Unauthenticated",
        "detail": "You did not pass a valid authentication token",
        "status": 401,
    }


async def test_create_error_422(client: replicate.Client) -> None:
    with pytest.raises(ReplicateError) as caught:
        await client.models.predictions.async_create(model=FLUX, input={"prompt": "x [[create_error=422]]"})
    assert caught.value.status == 422 and caught.value.title == "Input validation failed"


async def test_create_error_429_has_retry_after(
    fake_replicate: FakeReplicate, client: replicate.Client
) -> None:
    with pytest.raises(ReplicateError) as caught:
        await client.models.predictions.async_create(model=FLUX, input={"prompt": "x [[create_error=429]]"})
    assert caught.value.status == 429 and caught.value.detail and "throttled" in caught.value.detail
    raw = httpx.post(
        f"{fake_replicate.url}/v1/models/{FLUX}/predictions",
        json={"input": {"prompt": "[[create_error=429]]"}},
        headers={"Authorization": f"Bearer {GOOD_TOKEN}"},
    )
    assert raw.status_code == 429 and raw.headers["retry-after"] == "1"


async def test_unknown_prediction_is_404(client: replicate.Client) -> None:
    with pytest.raises(ReplicateError) as caught:
        await client.predictions.async_get("doesnotexist")
    assert caught.value.status == 404
    with pytest.raises(ReplicateError) as caught:
        await client.predictions.async_cancel("doesnotexist")
    assert caught.value.status == 404


def test_unknown_file_is_404(fake_replicate: FakeReplicate) -> None:
    assert httpx.get(f"{fake_replicate.url}/files/nope-0.png").status_code == 404


# --------------------------------------------------------------------------- sync client, models, misc


def test_sync_run_returns_url_list(fake_replicate: FakeReplicate, client: replicate.Client) -> None:
    output = client.run(FLUX, input={"prompt": "x [[duration=0.2]]"})
    assert isinstance(output, list) and len(output) == 1
    assert isinstance(output[0], str) and output[0].startswith(f"{fake_replicate.url}/files/")
    assert fake_replicate.requests[-1]["headers"]["prefer"] == "wait"
    assert httpx.get(output[0]).content.startswith(b"\x89PNG")


def test_models_get_and_run_by_version(fake_replicate: FakeReplicate, client: replicate.Client) -> None:
    model = client.models.get(ZEROSCOPE)
    assert model.owner == "anotherjesse" and model.name == "zeroscope-v2-xl"
    assert model.latest_version is not None and model.latest_version.id == fake_replicate.version_for(
        ZEROSCOPE
    )
    output = client.run(f"{ZEROSCOPE}:{model.latest_version.id}", input={"prompt": FAST})
    assert isinstance(output, str) and output.endswith(".mp4")


async def test_html_directive_serves_html_labelled_png(client: replicate.Client) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": f"{FAST} [[html]]"}
    )
    await prediction.async_wait()
    response = await _download(prediction.output[0])
    assert response.headers["content-type"] == "image/png"
    assert response.content.lstrip().lower().startswith(b"<!doctype html")


def test_env_points_default_client_here(
    fake_replicate: FakeReplicate, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in fake_replicate.env().items():
        monkeypatch.setenv(name, value)
    prediction = replicate.Client().models.predictions.create(model=FLUX, input={"prompt": "x"})
    assert prediction.id in fake_replicate.predictions
    assert fake_replicate.requests[-1]["headers"]["authorization"] == f"Bearer {GOOD_TOKEN}"


def test_paced_times_new_predictions_then_restores_the_pace_and_clear_forgets(
    fake_replicate: FakeReplicate,
) -> None:
    pace = (fake_replicate.backend.start_delay, fake_replicate.backend.duration)
    client = replicate.Client(api_token=GOOD_TOKEN, base_url=fake_replicate.url)
    with fake_replicate.paced(start_delay=0, duration=0):
        prediction = client.models.predictions.create(model=FLUX, input={"prompt": "x"})
        time.sleep(0.05)
        assert fake_replicate.predictions[prediction.id]["status"] == "succeeded"
    assert (fake_replicate.backend.start_delay, fake_replicate.backend.duration) == pace
    with pytest.raises(RuntimeError), fake_replicate.paced(start_delay=9, duration=9):
        raise RuntimeError
    assert (fake_replicate.backend.start_delay, fake_replicate.backend.duration) == pace
    assert fake_replicate.requests
    fake_replicate.clear()
    assert (
        fake_replicate.requests == [] and fake_replicate.downloads == [] and fake_replicate.predictions == {}
    )


def test_script_parsing() -> None:
    script = Script.parse("a cat [[duration=2.5]] [[outputs=4]] [[fail]] [[create_error=429]]")
    assert script == Script(text="a cat", duration=2.5, outputs=4, fail=True, create_error=429)


def test_standalone_module_serves() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.replicate", "--port", str(port)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = replicate.Client(api_token=GOOD_TOKEN, base_url=f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 10
        while True:
            try:
                model = client.models.get(FLUX)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert model.name == "flux-schnell"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
