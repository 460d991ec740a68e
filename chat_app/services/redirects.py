"""Where a sign-in may send someone next: a path on this site, never another host."""

from __future__ import annotations


def safe_next(value: str | None, default: str = "/") -> str:
    """`value` when it is a path on this site, else `default` (no open redirects).

    Browsers read "//host" and "/\\host" as another host, and drop tabs and newlines from a URL
    before reading it ("/\\t/host" is "//host"), so none of these pass.
    """
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return default
    return value
