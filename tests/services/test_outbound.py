"""Outbound fetches of provider-given addresses: public addresses only, pinned, redirects checked."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import httpx
import pytest

from chat_app.services import outbound
from chat_app.services.outbound import RefusedAddress

PUBLIC = "93.184.215.14"


def _private_addresses(allowed: bool, monkeypatch) -> Iterator[None]:
    from chat_app import settings

    monkeypatch.setenv("OUTBOUND_PRIVATE_ADDRESSES_ALLOWED", "true" if allowed else "false")
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


@pytest.fixture
def private_refused(monkeypatch) -> Iterator[None]:
    yield from _private_addresses(False, monkeypatch)


@pytest.fixture
def private_allowed(monkeypatch) -> Iterator[None]:
    yield from _private_addresses(True, monkeypatch)


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """Names resolve to what the test says; address literals to themselves."""
    answers: dict[str, list[str]] = {}

    async def resolve(host: str, port: int) -> list:
        return [ipaddress.ip_address(a) for a in answers.get(host, [host])]

    monkeypatch.setattr(outbound, "resolve", resolve)
    return answers


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::6810:84e5", True),
        ("127.0.0.1", False),
        ("10.0.0.8", False),
        ("172.16.4.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.100.100.200", False),  # shared address space (some clouds' metadata)
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
    ],
)
def test_only_public_addresses_are_public(address, public):
    assert outbound.is_public(ipaddress.ip_address(address)) is public


async def test_a_checked_hop_connects_to_the_address_it_checked(private_refused, dns):
    dns["cdn.example.com"] = [PUBLIC]
    hop = await outbound.checked(httpx.URL("https://cdn.example.com:8443/out/1.png?sig=abc"))
    assert str(hop.url) == f"https://{PUBLIC}:8443/out/1.png?sig=abc"
    # the name still goes to the server, and TLS verifies the certificate against it
    assert hop.headers == {"Host": "cdn.example.com:8443"}
    assert hop.extensions == {"sni_hostname": "cdn.example.com"}
    plain = await outbound.checked(httpx.URL("http://cdn.example.com/x"))
    assert (str(plain.url), plain.extensions) == (f"http://{PUBLIC}/x", {})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://mixed.example.com/",  # one public answer and one private: refused
        "http://inside.example.com/",
        "ftp://cdn.example.com/x",
        "file:///etc/passwd",
    ],
)
async def test_private_and_odd_addresses_are_refused(private_refused, dns, url):
    dns["mixed.example.com"] = [PUBLIC, "10.1.2.3"]
    dns["inside.example.com"] = ["192.168.0.10"]
    with pytest.raises(RefusedAddress):
        await outbound.checked(httpx.URL(url))


async def test_the_setting_lets_private_addresses_through_untouched(private_allowed):
    hop = await outbound.checked(httpx.URL("http://127.0.0.1:9/x.png"))
    assert (str(hop.url), hop.headers, hop.extensions) == ("http://127.0.0.1:9/x.png", {}, {})


async def test_real_resolution_finds_loopback_for_localhost(private_refused):
    assert all(a.is_loopback for a in await outbound.resolve("localhost", 80))
    with pytest.raises(RefusedAddress):
        await outbound.checked(httpx.URL("http://localhost/x"))
    with pytest.raises(httpx.ConnectError):  # like any download that cannot connect
        await outbound.resolve("no-such-host.invalid", 80)


def _redirecting(hops: int, last: str):
    """A server that redirects `hops` times (relative, then absolute to `last`), then answers."""
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        n = len(asked)
        if n < hops:
            return httpx.Response(302, headers={"location": f"/step/{n}"})
        if n == hops:
            return httpx.Response(307, headers={"location": last})
        return httpx.Response(200, content=b"done")

    return asked, httpx.MockTransport(answer)


async def test_redirects_are_followed_hop_by_hop_up_to_three(private_refused, dns):
    dns["cdn.example.com"] = dns["files.example.net"] = [PUBLIC]
    asked, transport = _redirecting(3, "http://files.example.net/final.png")
    async with (
        httpx.AsyncClient(transport=transport) as http,
        outbound.get(http, "http://cdn.example.com/start") as response,
    ):
        assert await response.aread() == b"done"
    assert [(r.headers["host"], r.url.path) for r in asked] == [
        ("cdn.example.com", "/start"),
        ("cdn.example.com", "/step/1"),  # a relative redirect stays on the name, not the address
        ("cdn.example.com", "/step/2"),
        ("files.example.net", "/final.png"),
    ]
    assert {r.url.host for r in asked} == {PUBLIC}

    asked, transport = _redirecting(4, "http://files.example.net/final.png")
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(RefusedAddress, match="redirects"):
            async with outbound.get(http, "http://cdn.example.com/start"):
                pass
    assert len(asked) == 4


async def test_a_redirect_into_the_private_network_is_refused_before_it_is_asked(private_refused, dns):
    dns["cdn.example.com"] = [PUBLIC]
    dns["rebind.example.com"] = ["127.0.0.1"]
    for target in ("http://169.254.169.254/latest/meta-data/", "http://rebind.example.com/x"):
        asked, transport = _redirecting(1, target)
        async with httpx.AsyncClient(transport=transport) as http:
            with pytest.raises(RefusedAddress):
                async with outbound.get(http, "http://cdn.example.com/start"):
                    pass
        assert len(asked) == 1
