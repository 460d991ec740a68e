"""Own keys over HTTP: stored, summarized, used for availability, deletable; never echoed."""

from tests.support.factories import api_user

KEY = "sk-api-own-deepseek-5555"


def test_put_list_use_and_delete_an_own_key(api, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    assert api.get("/api/keys").status_code == 401
    api_user(api)

    def deepseek_available() -> bool:
        return api.get("/api/models", params={"q": "deepseek chat"}).json()[0]["available"]

    assert deepseek_available() is False
    saved = api.put("/api/keys/deepseek", json={"api_key": KEY})
    assert saved.status_code == 200 and saved.json() == {
        "provider": "deepseek",
        "label": "DeepSeek",
        "is_set": True,
        "last4": "5555",
    }
    listing = api.get("/api/keys")
    assert KEY not in listing.text and KEY not in saved.text
    assert {k["provider"]: k["is_set"] for k in listing.json()}["deepseek"] is True
    assert deepseek_available() is True
    assert api.delete("/api/keys/deepseek").status_code == 204
    assert api.delete("/api/keys/deepseek").status_code == 404
    assert deepseek_available() is False


def test_bad_key_requests_get_400(api):
    api_user(api)
    for provider, body in [
        ("ollama", {"api_key": KEY}),
        ("nobody", {"api_key": KEY}),
        ("openai", {"api_key": "short"}),
        ("openai", {"api_key": 12345678}),
        ("openai", {}),
    ]:
        response = api.put(f"/api/keys/{provider}", json=body)
        assert response.status_code == 400, (provider, body)
        assert response.json()["error"].endswith(".")
    assert not any(k["is_set"] for k in api.get("/api/keys").json())
