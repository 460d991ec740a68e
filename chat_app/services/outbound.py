"""Fetching an address a provider handed back (a generation's output), never into this server's own
network: not by the address itself, nor by what its name resolves to, nor by a redirect.

Each hop's name is resolved here, every address it resolves to is checked, and the connection goes
to the checked address (the name travels in the Host header and TLS SNI, so certificates are still
verified against it): a DNS answer that changes between the check and the connection changes
nothing. The operator's own addresses (providers, sign-in, REPLICATE_BASE_URL) are used as
configured and never come through here. OUTBOUND_PRIVATE_ADDRESSES_ALLOWED turns the check off,
for a provider that really runs on a private network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from chat_app.settings import get_settings

MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
RESOLVE_TIMEOUT = 10.0  # seconds
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv6 addresses that carry an IPv4 address to reach

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(Exception):
    """The address leads somewhere this server does not fetch from; the message says where, for logs."""


def is_public(address: IPAddress) -> bool:
    """Whether `address` is on the public internet: not private, loopback, link-local (cloud
    metadata services), reserved, multicast or unspecified, nor an IPv6 address carrying one."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address.teredo is not None:
            carried = address.teredo[1]
        if carried is None and address in _NAT64:
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is not None:
            return is_public(carried)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an address literal is itself). A name that does not
    resolve is a failed connection (httpx.ConnectError), as it would be for httpx itself."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        found = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT
        )
    except (OSError, TimeoutError) as exc:
        raise httpx.ConnectError(f"{host} does not resolve: {exc}") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
    return list(dict.fromkeys(addresses))


@dataclass(frozen=True)
class Hop:
    """One request of a fetch: where to connect and what to tell the server it is."""

    url: httpx.URL
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


async def checked(url: httpx.URL) -> Hop:
    """The request for `url`, pinned to an address checked to be public (unless the setting allows
    private ones). Raises RefusedAddress."""
    if url.scheme not in ("http", "https") or not url.host:
        raise RefusedAddress(f"not a web address: {url}")
    if get_settings().outbound_private_addresses_allowed:
        return Hop(url)
    host = url.raw_host.decode("ascii")  # an international name in its IDNA form
    addresses = await resolve(host, url.port or (443 if url.scheme == "https" else 80))
    refused = [str(a) for a in addresses if not is_public(a)]
    if not addresses or refused:
        raise RefusedAddress(f"{host} leads to a private address ({', '.join(refused) or 'none'})")
    pinned = url.copy_with(host=str(addresses[0]))
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    return Hop(pinned, {"Host": url.netloc.decode("ascii")}, extensions)


@asynccontextmanager
async def get(http: httpx.AsyncClient, url: str) -> AsyncIterator[httpx.Response]:
    """GET `url` as a stream, following at most MAX_REDIRECTS redirects, each hop checked before
    it is connected to. The client must not follow redirects itself. Raises RefusedAddress."""
    current = httpx.URL(url)
    for _ in range(MAX_REDIRECTS + 1):
        hop = await checked(current)
        request = http.build_request("GET", hop.url, headers=hop.headers, extensions=hop.extensions)
        response = await http.send(request, stream=True, follow_redirects=False)
        location = response.headers.get("location")
        if response.status_code in REDIRECTS and location:
            await response.aclose()
            current = current.join(location)
            continue
        try:
            yield response
        finally:
            await response.aclose()
        return
    raise RefusedAddress(f"more than {MAX_REDIRECTS} redirects from {url}")
