"""The sidebar's groups of chats, by the reader's own calendar."""

from datetime import datetime, timedelta, timezone

from chat_app.state.chat_groups import group_chats

NOW = datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc)


def chat(name: str, ago: timedelta) -> dict:
    return {"id": name, "title": name, "model_id": "", "updated_at": (NOW - ago).isoformat(), "pinned": False}


def test_chats_fall_into_days_weeks_and_months_as_the_reader_counts_them():
    chats = [
        chat("now", timedelta(minutes=5)),
        chat("last night", timedelta(hours=26)),
        chat("monday", timedelta(days=4)),
        chat("last month", timedelta(days=20)),
        chat("october", timedelta(days=50)),
        chat("also october", timedelta(days=55)),
    ]
    groups = group_chats(chats, now=NOW)  # type: ignore[arg-type]
    assert [(g["label"], [c["id"] for c in g["chats"]]) for g in groups] == [
        ("Today", ["now"]),
        ("Yesterday", ["last night"]),
        ("Previous 7 days", ["monday"]),
        ("Previous 30 days", ["last month"]),
        ("October 2026", ["october", "also october"]),
    ]
    # At 03:00 UTC it was still the evening before in New York.
    small_hours = [chat("small hours", timedelta(hours=20, minutes=30))]
    assert group_chats(small_hours, now=NOW)[0]["label"] == "Today"  # type: ignore[arg-type]
    assert group_chats(small_hours, now=NOW, utc_offset_minutes=-5 * 60)[0]["label"] == "Yesterday"  # type: ignore[arg-type]
