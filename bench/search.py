"""Search: how long one person's search takes over 10,000 of their messages, on SQLite and on
PostgreSQL, side by side in one run.

Each database gets a fresh schema from the migrations, then one person with MESSAGES messages in
100 chats, and as many messages of another person (which the search must leave out). The texts
are sentences drawn from a fixed vocabulary (seeded, so every run searches the same data), with a
rare word in a few of them. Each query runs through `services.search.search` (the route's own
call) RUNS times after one warm-up; the medians and p95s are printed, with the number of results.

Run: ``.venv/bin/python bench/search.py`` (about a minute; ``--json`` for the figures as JSON,
``--messages 10000``). PostgreSQL comes from TEST_DATABASE_URL (default: the local one).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session  # noqa: E402

from chat_app.db import make_engine  # noqa: E402
from chat_app.migrations import upgrade  # noqa: E402
from chat_app.models import Chat, Message, User, utcnow  # noqa: E402
from chat_app.services import search  # noqa: E402
from tests.support.databases import postgres_schema  # noqa: E402

RUNS = 20
CHATS = 100
VOCABULARY = [
    "model",
    "reply",
    "chat",
    "question",
    "answer",
    "picture",
    "video",
    "token",
    "window",
    "context",
    "price",
    "provider",
    "stream",
    "server",
    "worker",
    "database",
    "index",
    "search",
    "title",
    "share",
    "link",
    "invite",
    "edit",
    "branch",
    "export",
    "import",
    "summary",
    "code",
    "python",
    "table",
    "chart",
    "travel",
    "recipe",
    "garden",
    "music",
    "history",
    "science",
    "budget",
    "plan",
    "weekend",
    "holiday",
    "meeting",
    "report",
    "draft",
    "letter",
    "story",
    "poem",
    "review",
    "bug",
    "test",
    "deploy",
    "release",
]
RARE = "quetzalcoatl"
QUERIES = {
    "one common word": "model",
    "two common words": "model reply",
    "a common prefix": "sea",
    "a rare word": RARE,
    "no match": "zyzzyva",
}


def _sentence(rng: random.Random, index: int) -> str:
    words = rng.choices(VOCABULARY, k=rng.randint(8, 40))
    if index % 997 == 0:
        words.insert(rng.randrange(len(words)), RARE)
    return " ".join(words).capitalize() + "."


def _seed(engine: sa.Engine, messages: int) -> User:
    """The person searched for, and another one whose messages are as many."""
    rng = random.Random(7)
    people = [User(email=f"{name}@example.com") for name in ("searcher", "someone-else")]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(people)
        session.flush()
        start = utcnow() - timedelta(days=30)
        for person in people:
            chats = [
                Chat(user_id=person.id, title=f"Chat {i}", share_token=uuid.uuid4().hex) for i in range(CHATS)
            ]
            session.add_all(chats)
            session.flush()
            rows = []
            for i in range(messages):
                chat = chats[i % CHATS]
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "chat_id": chat.id,
                        "seq": i // CHATS + 1,
                        "role": "user" if (i // CHATS) % 2 == 0 else "assistant",
                        "content": _sentence(rng, i),
                        "status": "complete",
                        "created_at": start + timedelta(seconds=i),
                        "updated_at": start + timedelta(seconds=i),
                    }
                )
            session.execute(sa.insert(Message), rows)
        session.commit()
    return people[0]


def _measure(engine: sa.Engine, person: User) -> dict[str, dict[str, float]]:
    figures = {}
    with Session(engine) as session:
        for name, query in QUERIES.items():
            found = search.search(person, query, session=session)  # warm-up
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                search.search(person, query, session=session)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            figures[name] = {
                "median_ms": statistics.median(times),
                "p95_ms": times[int(len(times) * 0.95) - 1],
                "results": len(found),
            }
    return figures


def _run(url: str, messages: int) -> dict[str, dict[str, float]]:
    upgrade(url)
    engine = make_engine(url)
    try:
        person = _seed(engine, messages)
        return _measure(engine, person)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages per person")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = _run(f"sqlite:///{folder}/search.db", args.messages)
    base = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with postgres_schema(base, prefix="bench") as url:
        results["postgresql"] = _run(url, args.messages)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"Search over {args.messages:,} messages of one person (and as many of another), {RUNS} runs each")
    print(f"{'query':<20} {'SQLite median / p95':>22} {'PostgreSQL median / p95':>26} {'results':>8}")
    for name in QUERIES:
        lite, pg = results["sqlite"][name], results["postgresql"][name]
        print(
            f"{name:<20} {lite['median_ms']:>10.1f} / {lite['p95_ms']:>6.1f} ms"
            f" {pg['median_ms']:>13.1f} / {pg['p95_ms']:>6.1f} ms {lite['results']:>8}"
        )


if __name__ == "__main__":
    main()
