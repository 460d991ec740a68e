"""An imported conversation's tree: which kept message each one follows, and an order to write them in.

Exports name every node and its parent, including nodes this app does not keep (system prompts,
tool runs, hidden ones): a kept message follows its nearest kept ancestor.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


class NotATree(ValueError):
    """The nodes' parents run in a circle."""


@dataclass(frozen=True)
class Arranged:
    order: list[int]  # the kept messages' indexes: each after its parent, the oldest first
    parents: dict[int, int | None]  # each kept message's parent, by index (None: a first message)
    current: int  # the message the conversation was left on


def arrange(
    keys: Sequence[str],
    links: Mapping[str, str | None],
    times: Sequence[datetime | None],
    current: str | None,
) -> Arranged:
    """`keys`: the kept messages' node ids; `links`: every node's parent (None for a root)."""
    index = {key: i for i, key in enumerate(keys)}
    parents = {i: _kept_above(key, links, index) for key, i in index.items()}
    children: dict[int | None, list[int]] = {}
    for i, parent in parents.items():
        children.setdefault(parent, []).append(i)
    # Written oldest first, each after the one it follows (which keeps an export's own order).
    ready = [((times[i] or _EARLIEST), i) for i in children.get(None, [])]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _at, i = heapq.heappop(ready)
        order.append(i)
        for child in children.get(i, []):
            heapq.heappush(ready, ((times[child] or _EARLIEST), child))
    if len(order) < len(keys):  # the rest follow each other in a circle
        raise NotATree("This conversation's messages do not form a tree.")
    if current in index:
        chosen = index[current]
    else:
        above = _kept_above(current, links, index) if current is not None else None
        chosen = above if above is not None else order[-1]
    return Arranged(order, parents, chosen)


def _kept_above(key: str, links: Mapping[str, str | None], index: Mapping[str, int]) -> int | None:
    """The nearest kept ancestor of a node (a parent the file does not hold ends the walk)."""
    seen: set[str] = set()
    parent = links.get(key)
    while parent is not None and parent not in index:
        if parent in seen:
            raise NotATree("This conversation's messages do not form a tree.")
        seen.add(parent)
        parent = links.get(parent)
    return index[parent] if parent is not None else None
