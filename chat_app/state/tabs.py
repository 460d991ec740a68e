"""Whether a tab is still open. Reflex ends the events a page load started when the tab's socket
closes, but not the long-lived ones a tab started itself (a view's follower, started by Send), so
those look for themselves."""

from __future__ import annotations

from typing import Any

from reflex.utils.prerequisites import get_and_validate_app

_manager: Any = None


def _token_manager() -> Any:
    """Reflex's record of this worker's sockets (None before its socket server exists). Its
    public `token_to_sid` copies the whole record on every read, which would make each look
    cost as much as every open tab."""
    global _manager
    if _manager is None:
        namespace = get_and_validate_app().app.event_namespace
        _manager = None if namespace is None else namespace._token_manager
    return _manager


def is_open(token: str) -> bool:
    """Whether the tab has a socket on this worker. A tab that reconnects to another worker opens
    its chat there again, and that view's newer follower replaces the ones here."""
    manager = _token_manager()
    return manager is None or token in manager.token_to_socket
