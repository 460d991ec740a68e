"""Personal API tokens over HTTP: made (the token answered once), listed without it, revoked; for
the signed-in person only, never with a token."""

from tests.support.factories import api_token, api_user


def test_make_list_and_revoke_a_token(api):
    assert api.get("/api/tokens").status_code == 401
    assert api.post("/api/tokens", json={"name": "x"}).status_code == 401
    api_user(api)
    made = api.post("/api/tokens", json={"name": "My editor"})
    assert made.status_code == 201
    token = made.json()
    assert set(token) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "created",
        "last_used",
        "token",
    }
    assert token["name"] == "My editor" and token["token"].startswith(token["prefix"])
    listing = api.get("/api/tokens")
    assert listing.status_code == 200 and token["token"] not in listing.text
    assert [t["id"] for t in listing.json()] == [token["id"]]
    assert api.delete(f"/api/tokens/{token['id']}").status_code == 204
    assert api.delete(f"/api/tokens/{token['id']}").status_code == 404
    assert api.get("/api/tokens").json() == []


def test_bad_names_get_400_with_a_sentence(api):
    api_user(api)
    for body in [{}, {"name": 5}, {"name": "  "}, {"name": "x" * 101}]:
        answer = api.post("/api/tokens", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"].endswith(".")
    assert api.get("/api/tokens").json() == []


def test_a_token_cannot_manage_tokens(api):
    """Only the session cookie makes and revokes tokens: a leaked token cannot make more."""
    api_user(api)
    token = api_token(api)
    api.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/tokens", headers=bearer).status_code == 401
    assert api.post("/api/tokens", json={"name": "more"}, headers=bearer).status_code == 401
