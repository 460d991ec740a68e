"""What a 200 MB video upload costs the server in memory, through both ways a file enters the app.

Starts the real app (``reflex run --env prod --single-port``) from a temporary copy of the
project, on a temporary SQLite database and media folder, then uploads one 200 MiB MP4:

(a) API face: ``POST /api/upload`` (multipart, field ``file``) with httpx, the body streamed by
    hand from the file in 1 MiB pieces, signed in by ``POST /api/auth/register``;
(b) Reflex face: the chat page's attach button (``rx.upload`` + ``rx.upload_files_chunk``,
    background handler ``ChatState.attach_files``), driven in Chromium with Playwright, until
    the attachment chip appears.

While each upload runs, a thread samples with psutil, every 20 ms, the RSS of every process of
the app's session (the ``reflex run`` process group and all it started). It reports the summed
RSS and the largest single process (the backend worker): baseline just before the upload, peak
until the response (API) or the chip (Reflex), increase, upload time and throughput. The peak is
also read from the kernel (VmHWM, reset just before the upload), which no sampling can miss. One small
upload through each face comes first (imports, first-request costs) and is not counted.

The video is ``tests.fakes.media_samples.mp4()`` followed by one MP4 ``free`` box padding it to
exactly 200 MiB (209,715,200 bytes), which is exactly the app's default limit (``MAX_VIDEO_MB=200``,
a file may be as large as the limit): MP4 readers skip ``free`` boxes, so the app accepts it as
``video/mp4`` and reads its duration and first frame.

Run: ``.venv/bin/python bench/upload_memory.py`` (``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from bench.streaming_cost import progress  # noqa: E402
from tests.fakes import media_samples  # noqa: E402
from tests.fakes.providers import FakeProviders  # noqa: E402
from tests.support.app_server import (  # noqa: E402
    CHROMIUM_ARGS,
    app_environment,
    free_port,
    isolated_copy,
    running_app,
)
from tests.support.browser import PASSWORD, choose_model, register  # noqa: E402

MIB = 1024 * 1024
DEFAULT_SIZE_MB = 200
PIECE = MIB  # what the bench reads and sends at a time
SAMPLE_EVERY = 0.02  # seconds between RSS samples
BASELINE_WINDOW = 1.0  # seconds of samples before an upload that make its baseline
AFTER_WINDOW = (0.5, 2.0)  # seconds after the end whose samples show what the upload left behind
GOAL_MB = 50.0
MODEL = "openai/gpt-4o"  # a vision model, so the attach button is enabled
REFLEX_TIMEOUT_MS = 180_000


# --------------------------------------------------------------------------- the video


def write_video(path: Path, size: int) -> int:
    """A valid faststart MP4 padded to exactly `size` bytes with one ``free`` box, written in pieces."""
    head = media_samples.mp4()
    pad = size - len(head)
    if not 8 <= pad < 2**32:
        raise ValueError(f"cannot pad a {len(head)}-byte MP4 to {size} bytes with one free box")
    zeros = bytes(PIECE)
    with path.open("wb") as out:
        out.write(head)
        out.write(struct.pack(">I", pad) + b"free")
        left = pad - 8
        while left:
            n = min(left, PIECE)
            out.write(zeros[:n])
            left -= n
    return path.stat().st_size


# --------------------------------------------------------------------------- memory sampling


def app_session_id(port: int) -> int:
    """The session of the process listening on `port`: running_app starts reflex in a new one."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            sid = os.getsid(conn.pid)
            if sid == os.getsid(0):
                raise RuntimeError("the app's listener runs in the bench's own session")
            return sid
    raise RuntimeError(f"no process of ours listens on port {port}")


@dataclass
class Sample:
    t: float
    rss: dict[int, int]  # pid -> bytes

    @property
    def total(self) -> int:
        return sum(self.rss.values())


@dataclass
class RssSampler:
    """Samples the RSS of every process in the app's session from a background thread."""

    sid: int
    interval: float = SAMPLE_EVERY
    samples: list[Sample] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)
    _procs: dict[int, psutil.Process] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _discover(self) -> None:
        for proc in psutil.process_iter(["pid", "name", "cmdline"]):
            try:
                if proc.pid in self._procs or os.getsid(proc.pid) != self.sid:
                    continue
            except (ProcessLookupError, PermissionError):
                continue
            self._procs[proc.pid] = proc
            cmd = " ".join(proc.info["cmdline"] or [])
            parent = proc.ppid()
            role = (
                f"child of {parent}"
                if parent in self._procs
                else "session leader"
                if proc.pid == self.sid
                else ""
            )
            self.labels[proc.pid] = f"{proc.info['name']} ({role}): {cmd[:100]}"

    def _run(self) -> None:
        next_scan = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_scan:  # new processes are rare; scanning /proc every sample is not needed
                self._discover()
                next_scan = now + 1.0
            rss = {}
            for pid, proc in list(self._procs.items()):
                try:
                    rss[pid] = proc.memory_info().rss
                except psutil.NoSuchProcess:
                    del self._procs[pid]
            self.samples.append(Sample(now, rss))
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - now)))

    def __enter__(self) -> RssSampler:
        self._discover()
        if not self._procs:
            raise RuntimeError(f"no processes in session {self.sid}")
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset_peaks(self) -> bool:
        """Reset the kernel's peak-RSS mark (VmHWM) of every process: ``echo 5 > /proc/PID/clear_refs``."""
        try:
            for pid in self._procs:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def kernel_peaks(self) -> dict[int, int]:
        """VmHWM of every process: its largest RSS since the last reset, seen by the kernel itself."""
        peaks = {}
        for pid in self._procs:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) * 1024
        return peaks

    def between(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.t <= end]

    def measure(self, start: float, end: float, kernel_peaks: dict[int, int] | None = None) -> dict[str, Any]:
        """Baseline (median of the second before `start`), peak (from `start` to `end`), and after.

        With `kernel_peaks` (VmHWM read at `end`, reset just before `start`), each process also
        gets the exact peak, which no sampling interval can miss.
        """
        before = self.between(start - BASELINE_WINDOW, start)
        during = self.between(start, end)
        after = self.between(end + AFTER_WINDOW[0], end + AFTER_WINDOW[1])
        if not before or not during:
            raise RuntimeError("no RSS samples around the upload")

        def med(values: list[int]) -> float:
            return statistics.median(values) / MIB if values else float("nan")

        total = {
            "baseline_mb": med([s.total for s in before]),
            "peak_mb": max(s.total for s in during) / MIB,
            "after_mb": med([s.total for s in after]),
        }
        total["increase_mb"] = total["peak_mb"] - total["baseline_mb"]
        per_process = {}
        for pid in sorted({pid for s in before + during for pid in s.rss}):
            base = med([s.rss[pid] for s in before if pid in s.rss])
            peak = max((s.rss[pid] for s in during if pid in s.rss), default=0) / MIB
            per_process[str(pid)] = {
                "label": self.labels.get(pid, "?"),
                "baseline_mb": base,
                "peak_mb": peak,
                "increase_mb": peak - base,
                "after_mb": med([s.rss[pid] for s in after if pid in s.rss]),
            }
            if kernel_peaks and pid in kernel_peaks:
                per_process[str(pid)]["kernel_peak_mb"] = kernel_peaks[pid] / MIB
                per_process[str(pid)]["kernel_increase_mb"] = kernel_peaks[pid] / MIB - base
        if kernel_peaks:  # each process's own peak, summed: an upper bound of the summed peak
            total["kernel_peak_sum_mb"] = sum(
                p.get("kernel_peak_mb", p["peak_mb"]) for p in per_process.values()
            )
            total["kernel_increase_mb"] = total["kernel_peak_sum_mb"] - total["baseline_mb"]
        largest = max(per_process, key=lambda pid: per_process[pid]["peak_mb"])
        return {
            "total": total,
            "largest_process": {"pid": int(largest), **per_process[largest]},
            "largest_single_increase_mb": max(p["increase_mb"] for p in per_process.values()),
            "processes": len({pid for s in during for pid in s.rss}),
            "samples": len(during),
            "per_process": per_process,
        }


# --------------------------------------------------------------------------- API face


def multipart(
    path: Path | None, data: bytes | None, name: str, mime: str
) -> tuple[str, int, Iterator[bytes]]:
    """A multipart/form-data body with one file in field `file`: content type, length, pieces."""
    boundary = f"bench-{uuid.uuid4().hex}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size if path is not None else len(data or b"")

    def pieces() -> Iterator[bytes]:
        yield head
        if path is None:
            yield data or b""
        else:
            with path.open("rb") as f:
                while block := f.read(PIECE):
                    yield block
        yield tail

    return f"multipart/form-data; boundary={boundary}", len(head) + size + len(tail), pieces()


def api_upload(
    client: httpx.Client,
    name: str,
    mime: str,
    *,
    path: Path | None = None,
    data: bytes | None = None,
    marks: dict[str, float] | None = None,
) -> dict[str, Any]:
    content_type, length, pieces = multipart(path, data, name, mime)

    def timed() -> Iterator[bytes]:
        yield from pieces
        if marks is not None:
            marks["body_sent"] = time.monotonic()

    response = client.post(
        "/api/upload", content=timed(), headers={"Content-Type": content_type, "Content-Length": str(length)}
    )
    if response.status_code != 201:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:500]}")
    return response.json()["files"][0]


def api_sign_in(client: httpx.Client) -> None:
    email = f"bench-api-{uuid.uuid4().hex[:8]}@example.com"
    r = client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    if r.status_code != 200 or not client.cookies:
        raise RuntimeError(f"registering answered {r.status_code} (cookies {list(client.cookies)}): {r.text}")


def api_warm_up(client: httpx.Client) -> None:
    progress("API face: signing up, warm-up upload")
    api_sign_in(client)
    api_upload(client, "warm.mp4", "video/mp4", data=media_samples.mp4())


def api_face(client: httpx.Client, sid: int, video: Path, size: int) -> dict[str, Any]:
    progress(f"API face: uploading {size / MIB:.0f} MiB")
    with RssSampler(sid) as sampler:
        time.sleep(BASELINE_WINDOW + 0.2)
        marks: dict[str, float] = {}
        reset = sampler.reset_peaks()
        start = time.monotonic()
        stored = api_upload(client, "big.mp4", "video/mp4", path=video, marks=marks)
        end = time.monotonic()
        peaks = sampler.kernel_peaks() if reset else None
        time.sleep(AFTER_WINDOW[1] + 0.1)
    if stored["byte_size"] != size or stored["kind"] != "video" or stored["mime_type"] != "video/mp4":
        raise RuntimeError(f"the server stored something else: {stored}")
    return {
        **sampler.measure(start, end, peaks),
        "seconds": end - start,
        "body_sent_s": marks.get("body_sent", end) - start,
        "mb_per_s": size / MIB / (end - start),
        "stored": {
            k: stored.get(k) for k in ("kind", "mime_type", "byte_size", "width", "height", "duration")
        },
    }


# --------------------------------------------------------------------------- Reflex face


def attach(page: Page, files: Any) -> None:
    page.get_by_test_id("file-input").set_input_files(files)


def reflex_warm_up(page: Page) -> None:
    chip = page.get_by_test_id("attachment")
    button = page.get_by_test_id("attach-button")
    progress("Reflex face: signing up in the browser, warm-up upload")
    register(page)
    choose_model(page, MODEL)
    expect(button).to_be_enabled()
    attach(page, [{"name": "warm.mp4", "mimeType": "video/mp4", "buffer": media_samples.mp4()}])
    expect(chip).to_be_visible(timeout=60_000)
    page.get_by_test_id("remove-attachment").click()  # removes the upload on the server as well
    expect(chip).to_have_count(0)
    expect(button).to_be_enabled()


def reflex_face(page: Page, sid: int, video: Path, size: int) -> dict[str, Any]:
    chip = page.get_by_test_id("attachment")
    button = page.get_by_test_id("attach-button")
    upload_ends: list[dict[str, Any]] = []

    def finished(request) -> None:
        if "_upload" in request.url:
            response = request.response()
            upload_ends.append(
                {
                    "at": time.monotonic(),
                    "url": request.url,
                    "method": request.method,
                    "status": response.status if response else None,
                    "content_length": request.header_value("content-length"),
                }
            )

    page.on("requestfinished", finished)
    progress(f"Reflex face: uploading {size / MIB:.0f} MiB")
    percents: list[tuple[float, str]] = []
    with RssSampler(sid) as sampler:
        time.sleep(BASELINE_WINDOW + 0.2)
        reset = sampler.reset_peaks()
        start = time.monotonic()
        attach(page, str(video))
        deadline = start + REFLEX_TIMEOUT_MS / 1000
        while not chip.is_visible():
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"no attachment chip after {REFLEX_TIMEOUT_MS / 1000:.0f} s; "
                    f"notice: {page.get_by_test_id('composer-error').all_inner_texts()}"
                )
            label = button.inner_text().strip()
            if not percents or percents[-1][1] != label:
                percents.append((time.monotonic() - start, label))
            page.wait_for_timeout(100)
        end = time.monotonic()
        peaks = sampler.kernel_peaks() if reset else None
        time.sleep(AFTER_WINDOW[1] + 0.1)
    errors = page.get_by_test_id("composer-error").all_inner_texts()
    if errors:
        raise RuntimeError(f"the app refused the upload: {errors}")
    kind = chip.get_attribute("data-kind")
    if kind != "video":
        raise RuntimeError(f"the chip shows a {kind!r}, not a video")
    requests = [u for u in upload_ends if u["at"] >= start]
    body_done = requests[0]["at"] - start if requests else None
    at_100 = next((t for t, label in percents if label.startswith("100")), None)
    return {
        **sampler.measure(start, end, peaks),
        "seconds": end - start,
        "upload_request_done_s": body_done,
        "button_at_100_percent_s": at_100,
        # One streamed request answered 202 means Reflex took its chunked path (UploadChunkIterator).
        "upload_requests": [{k: v for k, v in u.items() if k != "at"} for u in requests],
        "mb_per_s": size / MIB / (end - start),
        "progress_labels": [[round(t, 2), label] for t, label in percents],
    }


# --------------------------------------------------------------------------- main


def run(size: int, faces: list[str], keep: Path | None) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    results: dict[str, Any] = {}
    try:
        video = tmp / "big.mp4"
        progress(f"writing a {size / MIB:.0f} MiB MP4")
        size = write_video(video, size)
        limit_mb = max(DEFAULT_SIZE_MB, -(-size // MIB))
        with FakeProviders() as fake:
            port = free_port()
            env = app_environment(
                port,
                f"sqlite:///{tmp / 'app.db'}",
                {
                    **fake.env(),
                    "MEDIA_DIR": str(tmp / "media"),
                    "MAX_VIDEO_MB": str(limit_mb),
                },
            )
            project = isolated_copy(tmp / "project")
            progress(f"starting the app on port {port}")
            with running_app(env, port, tmp / "app.log", cwd=project) as url, sync_playwright() as pw:
                sid = app_session_id(port)
                browser = pw.chromium.launch(
                    executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS
                )
                try:
                    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
                    context.set_default_timeout(30_000)
                    page = context.new_page()
                    with httpx.Client(base_url=url, timeout=httpx.Timeout(300.0, connect=10.0)) as client:
                        for face in faces:  # every warm-up before any measured upload
                            if face == "api":
                                api_warm_up(client)
                            else:
                                reflex_warm_up(page)
                        time.sleep(BASELINE_WINDOW)
                        for face in faces:
                            results[face] = (
                                api_face(client, sid, video, size)
                                if face == "api"
                                else reflex_face(page, sid, video, size)
                            )
                finally:
                    browser.close()
    finally:
        if keep is not None and (tmp / "app.log").exists():
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp / "app.log", keep / "app.log")
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "file_bytes": size,
        "file": f"media_samples.mp4() + one 'free' box, {size:,} bytes ({size / MIB:.2f} MiB)",
        "max_video_mb": limit_mb,
        "goal_increase_mb": GOAL_MB,
        "sample_interval_s": SAMPLE_EVERY,
        "faces": {face: {**r, "within_goal": _judged_increase(r) <= GOAL_MB} for face, r in results.items()},
    }


def _judged_increase(f: dict[str, Any]) -> float:
    """The increase the goal is judged on: the larger of the sampled and the kernel's figure."""
    return max(f["total"]["increase_mb"], f["total"].get("kernel_increase_mb", float("-inf")))


def report(r: dict[str, Any]) -> str:
    lines = [
        f"File: {r['file']}; app limit MAX_VIDEO_MB={r['max_video_mb']}.",
        f"RSS of the app's processes in MiB: sampled every {r['sample_interval_s'] * 1000:.0f} ms, and the "
        "kernel's own peak (VmHWM, reset just before the upload).",
        "",
        f"{'face':7s} {'processes':22s} {'baseline':>9s} {'peak':>8s} {'increase':>9s} "
        f"{'VmHWM':>8s} {'increase':>9s} {'after':>8s}",
    ]
    for face, f in r["faces"].items():
        t, big = f["total"], f["largest_process"]
        nan = float("nan")
        lines.append(
            f"{face:7s} {'all ' + str(f['processes']) + ' (sum)':22s} {t['baseline_mb']:9.1f} "
            f"{t['peak_mb']:8.1f} {t['increase_mb']:+9.1f} {t.get('kernel_peak_sum_mb', nan):8.1f} "
            f"{t.get('kernel_increase_mb', nan):+9.1f} {t['after_mb']:8.1f}"
        )
        lines.append(
            f"{'':7s} {'largest, pid ' + str(big['pid']):22s} {big['baseline_mb']:9.1f} "
            f"{big['peak_mb']:8.1f} {big['increase_mb']:+9.1f} {big.get('kernel_peak_mb', nan):8.1f} "
            f"{big.get('kernel_increase_mb', nan):+9.1f} {big['after_mb']:8.1f}"
        )
    lines.append("")
    for face, f in r["faces"].items():
        extra = (
            f"body sent at {f['body_sent_s']:.2f} s"
            if face == "api"
            else f"upload request done at {_s(f['upload_request_done_s'])}, "
            f"button at 100% at {_s(f['button_at_100_percent_s'])}"
        )
        lines.append(
            f"{face:7s} {f['seconds']:6.2f} s until {'the 201' if face == 'api' else 'the chip'}, "
            f"{f['mb_per_s']:6.0f} MB/s ({extra})"
        )
    lines.append("")
    for face, f in r["faces"].items():
        verdict = "PASS" if f["within_goal"] else "FAIL"
        lines.append(
            f"{face:7s} increase {_judged_increase(f):+.1f} MB "
            f"(goal <= {r['goal_increase_mb']:.0f} MB): {verdict}"
        )
    lines.append("")
    lines.append("Largest process:")
    for face, f in r["faces"].items():
        big = f["largest_process"]
        lines.append(f"  {face}: pid {big['pid']} {big['label']}")
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--size-mb",
        type=float,
        default=DEFAULT_SIZE_MB,
        help="size of the video in MiB (default 200; above 200 raises MAX_VIDEO_MB to match)",
    )
    parser.add_argument(
        "--faces", default="api,reflex", help="which faces to measure, in this order (default api,reflex)"
    )
    parser.add_argument("--keep", type=Path, help="save the app log here")
    args = parser.parse_args()
    faces = [f.strip() for f in args.faces.split(",") if f.strip()]
    if not faces or set(faces) - {"api", "reflex"}:
        parser.error("--faces takes api and/or reflex")
    # A terminated bench unwinds like an interrupted one, so the app, browser and files still go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = run(int(args.size_mb * MIB), faces, args.keep)
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
