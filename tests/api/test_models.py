"""GET /api/models: every query parameter, bad values, stable field names, no secrets."""

from tests.support.factories import api_user

FIELDS = {
    "id",
    "name",
    "provider",
    "type",
    "capabilities",
    "context_window",
    "pricing",
    "available",
    "unavailable_reason",
}


def test_signed_in_users_get_the_catalog_with_stable_fields(api, fake_env):
    assert api.get("/api/models").status_code == 401
    api_user(api)
    models = api.get("/api/models").json()
    assert models and all(set(m) == FIELDS for m in models)
    assert {m["type"] for m in models} == {"text", "image", "video"}
    gpt = next(m for m in models if m["id"] == "openai/gpt-4o")
    assert gpt["provider"] == {"id": "openai", "name": "OpenAI"} and gpt["available"] is True
    assert set(gpt["pricing"]) == {"input_per_mtok", "output_per_mtok", "per_image", "per_second"}


def test_every_query_parameter(api, fake_env):
    api_user(api)

    def ids(**params):
        response = api.get("/api/models", params=params)
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()]

    assert all(i.startswith("replicate/") for i in ids(type="video"))
    assert set(ids(provider="anthropic")) == {
        "anthropic/claude-opus-4-5",
        "anthropic/claude-sonnet-4-5",
        "anthropic/claude-haiku-4-5",
    }
    both = api.get("/api/models", params=[("capability", "vision"), ("capability", "reasoning")]).json()
    assert both and all({"vision", "reasoning"} <= set(m["capabilities"]) for m in both)
    assert ids(q="sonnet") == ["anthropic/claude-sonnet-4-5"]
    by_name_desc = api.get("/api/models", params={"sort": "name", "order": "desc"}).json()
    assert [m["name"].lower() for m in by_name_desc] == sorted(
        (m["name"].lower() for m in by_name_desc), reverse=True
    )
    providers = [
        m["provider"]["name"].lower() for m in api.get("/api/models", params={"sort": "provider"}).json()
    ]
    assert providers == sorted(providers)
    assert ids(type="text", sort="price")[0] != ids(type="text", sort="price", order="desc")[0]
    assert ids(type="text", sort="context")


def test_bad_parameters_get_400_with_a_sentence(api):
    api_user(api)
    for params in (
        {"type": "audio"},
        {"sort": "speed"},
        {"order": "sideways"},
        {"capability": "magic"},
        {"provider": "nobody"},
        {"colour": "blue"},
        [("type", "text"), ("type", "image")],
    ):
        response = api.get("/api/models", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"].endswith(".")


def test_no_key_ever_appears_in_the_catalog(api, fake_env):
    api_user(api)
    body = api.get("/api/models").text
    for secret in fake_env.env().values():
        if "fake" in secret:
            assert secret not in body
