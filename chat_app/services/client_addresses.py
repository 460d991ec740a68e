"""Which address a request comes from: the one rule behind every limit per client.

The direct peer is the client, unless it is one of the operator's TRUSTED_PROXIES: then the
X-Forwarded-For header says who the proxy served. Each proxy appends the address it was reached
from, so the header is read from the right, past the trusted proxies, to the first address none
of them vouches for. Everything left of that was written by the client itself and is never believed.
"""

from __future__ import annotations

import ipaddress

from chat_app.settings import get_settings

UNKNOWN = "unknown"  # no peer address at all (a Unix socket): such clients share one count

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parsed(text: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(address: IpAddress) -> bool:
    return any(address in network for network in get_settings().trusted_proxy_networks)


def client_address(peer: str | None, forwarded_for: str | None) -> str:
    """The client's address for a connection from `peer` carrying this X-Forwarded-For header."""
    if not peer:
        return UNKNOWN
    nearest = _parsed(peer)
    if nearest is None or not _is_trusted(nearest):
        return peer  # not a proxy of ours: whatever the header says was written by the client
    for entry in reversed((forwarded_for or "").split(",")):
        address = _parsed(entry)
        if address is None:
            break  # not written by a proxy of ours: stop at the last address one did write
        nearest = address
        if not _is_trusted(address):
            break
    return str(nearest)
