"""The operator's routes: paging, changes and their refusals, registration."""

from tests.support.factories import api_user


def test_people_come_a_page_at_a_time_and_a_bad_page_is_refused(api):
    operator = api_user(api)
    for _ in range(2):
        api_user(api)  # the client is signed in as the last one registered
    api.cookies.clear()
    api.post("/api/auth/login", json={"email": operator, "password": "correct horse"})
    first = api.get("/api/admin/people", params={"limit": 2}).json()
    assert (first["total"], first["offset"], first["limit"], len(first["people"])) == (3, 0, 2, 2)
    assert first["people"][0]["email"] == operator and first["people"][0]["is_admin"]
    rest = api.get("/api/admin/people", params={"offset": 2, "limit": 2}).json()
    assert len(rest["people"]) == 1
    for params in ({"limit": "0"}, {"limit": "500"}, {"offset": "-1"}, {"limit": "ten"}):
        answer = api.get("/api/admin/people", params=params)
        assert answer.status_code == 400, params


def test_a_persons_limits_change_and_a_bad_change_is_refused(api):
    api_user(api)
    person_id = api.get("/api/me").json()["id"]  # the administrator's own row
    changed = api.patch(f"/api/admin/people/{person_id}", json={"replies_in_flight": 5, "monthly_spend": 2.5})
    assert changed.status_code == 200
    assert (
        changed.json()["limits"]["replies_in_flight"] == 5
        and changed.json()["limits"]["monthly_spend"] == 2.5
    )
    for body in ({"replies_in_flight": -1}, {"disabled": True}, {"email": "x@example.com"}):
        answer = api.patch(f"/api/admin/people/{person_id}", json=body)
        assert answer.status_code == 400, body
    assert api.patch("/api/admin/people/not-an-id", json={"disabled": True}).status_code == 404


def test_registration_is_read_and_set(api):
    api_user(api)
    assert api.get("/api/admin/registration").json() == {"mode": "open", "domains": []}
    for body in ({"mode": "ajar"}, {"mode": "domains", "domains": "example.com"}, {"mode": "domains"}):
        assert api.put("/api/admin/registration", json=body).status_code == 400, body
    saved = api.put("/api/admin/registration", json={"mode": "domains", "domains": ["example.com"]})
    assert saved.json() == {"mode": "domains", "domains": ["example.com"]}
    assert api.get("/api/admin/registration").json() == saved.json()
