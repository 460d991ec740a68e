"""The client's address: the peer, unless the peer is a trusted proxy, and never what the client
wrote into X-Forwarded-For itself."""

import pytest

from chat_app import settings
from chat_app.services.client_addresses import UNKNOWN, client_address


@pytest.fixture
def proxies(monkeypatch):
    def trust(value: str) -> None:
        monkeypatch.setenv("TRUSTED_PROXIES", value)
        settings.get_settings.cache_clear()

    yield trust
    settings.get_settings.cache_clear()


def test_without_trusted_proxies_the_header_is_ignored(proxies):
    proxies("")
    assert client_address("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert client_address(None, "198.51.100.1") == UNKNOWN


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # the proxy appended the address it was reached from; the client's own entry is ignored
        ("10.0.0.2", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        # through two proxies of ours
        ("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        # a peer that is not ours: its header means nothing
        ("192.0.2.50", "203.0.113.9", "192.0.2.50"),
        # a trusted proxy that sent no header, or only our own addresses
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "10.0.0.9", "10.0.0.9"),
        # garbage left of the proxy's entry is not believed
        ("10.0.0.2", "not-an-ip, 10.0.0.9", "10.0.0.9"),
        ("10.0.0.2", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_trusted_proxies_the_first_address_they_do_not_vouch_for(proxies, peer, forwarded_for, client):
    proxies("10.0.0.0/8, ::1")
    assert client_address(peer, forwarded_for) == client


def test_a_trusted_proxy_that_is_not_an_address_is_refused_at_start_up(proxies):
    from chat_app.settings import SettingsError, load_settings

    proxies("10.0.0.0/8, the load balancer")
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES must be a comma-separated list of IP"):
        load_settings()
