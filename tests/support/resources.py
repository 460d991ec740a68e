"""What a piece of work costs this process: the most memory it added, the files it holds open."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil


@dataclass
class MemoryRise:
    peak: int = 0  # bytes above the resident size at the start, at the highest sample


@contextmanager
def memory_rise(every: float = 0.005) -> Iterator[MemoryRise]:
    """Sample the resident size while the block runs (Pillow's and FFmpeg's buffers are not
    Python objects, so tracemalloc does not see them)."""
    process, rise, done = psutil.Process(), MemoryRise(), threading.Event()
    start = process.memory_info().rss

    def sample() -> None:
        while not done.is_set():
            rise.peak = max(rise.peak, process.memory_info().rss - start)
            done.wait(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield rise
    finally:
        done.set()
        sampler.join()
        rise.peak = max(rise.peak, process.memory_info().rss - start)


def open_files() -> int:
    """File descriptors this process holds open now."""
    return len(os.listdir("/proc/self/fd"))
