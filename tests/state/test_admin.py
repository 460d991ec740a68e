"""What the admin page shows of a person, and what it sends for the limits typed in."""

from chat_app.state.admin import limit_changes, person_row


def view(**overrides):
    return {
        "id": "p1",
        "email": "p@example.com",
        "created_at": "2026-01-01T00:00:00+00:00",
        "email_verified": True,
        "is_admin": False,
        "disabled": False,
        "replies_in_flight": 2,
        "spent_this_month": 1.5,
        "spent_label": "$1.50",
        "limits": {"replies_in_flight": 3, "requests_per_minute": 0, "monthly_spend": 2.5},
        "overrides": {"replies_in_flight": None, "requests_per_minute": 0, "monthly_spend": 2.5},
        **overrides,
    }


def test_a_row_says_what_holds_and_shows_only_the_overrides_in_its_fields():
    row = person_row(view())  # pyright: ignore[reportArgumentType]
    assert row["limits_label"] == "3 at once · any number a minute · $2.50 a month"
    assert (
        row["replies_in_flight_override"],
        row["requests_per_minute_override"],
        row["monthly_spend_override"],
    ) == ("", "0", "2.5")


def test_blank_is_the_default_and_anything_else_goes_to_the_service_as_typed():
    assert limit_changes(
        {"replies_in_flight": " ", "requests_per_minute": "12", "monthly_spend": "$7.50"}
    ) == {
        "replies_in_flight": None,
        "requests_per_minute": 12.0,
        "monthly_spend": 7.5,
    }
    assert limit_changes({"replies_in_flight": "lots"})["replies_in_flight"] == "lots"
