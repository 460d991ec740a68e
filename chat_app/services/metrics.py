"""What one worker counts for an operator's Prometheus (served by api/metrics.py). Each worker
answers for itself: scrape every one (or every instance behind the balancer, by its own address)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # CPU, memory, open files of this worker

REPLIES_FINISHED = Counter(
    "chat_replies_finished",
    "Replies this worker ran to their end, by how they ended (complete, error, stopped) and kind.",
    ["status", "kind"],
    registry=REGISTRY,
)
REPLY_SECONDS = Histogram(
    "chat_reply_seconds",
    "Seconds from a reply's start to its end on this worker, by kind.",
    ["kind"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
# Read when Prometheus scrapes (api/metrics.py sets them).
LIVE_FOLLOWERS = Gauge(
    "chat_live_followers", "Open views following a chat's live channel on this worker.", registry=REGISTRY
)
REPLIES_RUNNING = Gauge("chat_replies_running", "Replies this worker is producing now.", registry=REGISTRY)
