"""Where a write may come from: the origins that count as ours."""

from __future__ import annotations

import pytest

from chat_app import settings
from tests.support.factories import api_user


@pytest.fixture
def partner_allowed(app_settings, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", "http://testserver,https://partner.example")
    settings.get_settings.cache_clear()


def test_allowed_origins_may_write_and_others_may_not(api, partner_allowed):
    api_user(api)
    for origin, status in [
        ("https://partner.example", 201),
        ("http://testserver", 201),
        ("https://partner.example.evil", 403),
        ("http://partner.example", 403),
    ]:
        answer = api.post("/api/chats", json={"model_id": "openai/gpt-4o"}, headers={"origin": origin})
        assert answer.status_code == status, origin


def test_reads_are_not_refused_for_their_origin(api):
    """GET changes nothing, and a cross-site GET cannot read the answer (CORS): left alone."""
    api_user(api)
    assert api.get("/api/chats", headers={"origin": "http://evil.example"}).status_code == 200
    assert api.get("/api/me", headers={"sec-fetch-site": "cross-site"}).status_code == 200


def test_an_origin_wins_over_sec_fetch_site(api, partner_allowed):
    """An allowed partner is cross-site by Sec-Fetch-Site, yet named in ALLOWED_ORIGINS."""
    api_user(api)
    headers = {"origin": "https://partner.example", "sec-fetch-site": "cross-site"}
    assert api.post("/api/chats", json={}, headers=headers).status_code == 201
