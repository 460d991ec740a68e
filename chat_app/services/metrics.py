"""What one worker counts for an operator's Prometheus (served by api/metrics.py). Each worker
answers for itself: scrape every one (or every instance behind the balancer, by its own address)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # CPU, memory, open files of this worker

REPLIES_FINISHED = Counter(
    "chat_replies_finished",
    "Replies (and generations) this worker ran to their end, by provider, kind (text, image, "
    "video) and how they ended (complete, error, stopped).",
    ["provider", "kind", "status"],
    registry=REGISTRY,
)
REPLY_SECONDS = Histogram(
    "chat_reply_seconds",
    "Seconds from a reply's start to its end on this worker, by provider and kind.",
    ["provider", "kind"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
FIRST_TOKEN_SECONDS = Histogram(
    "chat_first_token_seconds",
    "Seconds from asking a text model to its first text, by provider.",
    ["provider"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 60),
    registry=REGISTRY,
)
TOKENS = Counter(
    "chat_tokens",
    "Tokens of finished text replies as the provider counted them, by provider and direction (input, output).",
    ["provider", "direction"],
    registry=REGISTRY,
)
PROVIDER_ERRORS = Counter(
    "chat_provider_errors",
    "Replies a provider failed, by provider and kind (rejected_key, rate_limited, timeout, "
    "unreachable, broken, refused, server_error, failed).",
    ["provider", "kind"],
    registry=REGISTRY,
)
UPLOADS = Counter(
    "chat_uploads",
    "Files uploaded to this worker, by kind (image, video; unknown when refused) and how they were "
    "judged (passed, refused; a request with one refused file keeps none).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
# Read when Prometheus scrapes (api/metrics.py sets them).
LIVE_FOLLOWERS = Gauge(
    "chat_live_followers", "Open views following a chat's live channel on this worker.", registry=REGISTRY
)
REPLIES_RUNNING = Gauge("chat_replies_running", "Replies this worker is producing now.", registry=REGISTRY)
