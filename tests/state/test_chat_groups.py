"""The sidebar's groups of chats, by the reader's own calendar."""

from datetime import datetime, timedelta, timezone

from chat_app.state.chat_groups import group_chats, put_on_top

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


def test_a_chat_written_in_moves_to_the_top_of_today():
    chats = [chat("a", timedelta(minutes=5)), chat("b", timedelta(hours=3)), chat("c", timedelta(days=3))]
    moved = put_on_top(chats, "c", None, now=NOW)  # type: ignore[arg-type]
    assert moved is not None and [c["id"] for c in moved] == ["c", "a", "b"]
    assert moved[0]["updated_at"] == NOW.isoformat() and chats[2]["updated_at"] != NOW.isoformat()
    renamed = put_on_top(chats, "b", "Plans for Friday", now=NOW)  # type: ignore[arg-type]
    assert renamed is not None and (renamed[0]["id"], renamed[0]["title"]) == ("b", "Plans for Friday")
    new = put_on_top(chats, "d", None, now=NOW)  # type: ignore[arg-type]
    assert new is not None and (new[0]["id"], new[0]["title"]) == ("d", "New chat")


def test_the_first_chat_of_today_written_in_again_changes_nothing_the_reader_sees():
    """Nothing to send again: the sidebar would look the same."""
    chats = [chat("a", timedelta(minutes=5)), chat("b", timedelta(hours=3))]
    assert put_on_top(chats, "a", None, now=NOW) is None  # type: ignore[arg-type]
    assert put_on_top(chats, "a", "a", now=NOW) is None  # type: ignore[arg-type]
    # A new title, or a first chat from another day (in the reader's calendar), is a change.
    assert put_on_top(chats, "a", "A new name", now=NOW) is not None  # type: ignore[arg-type]
    yesterday = [chat("a", timedelta(hours=26)), chat("b", timedelta(hours=30))]
    assert put_on_top(yesterday, "a", None, now=NOW) is not None  # type: ignore[arg-type]
    late = [chat("a", timedelta(hours=20, minutes=30))]  # 03:00 UTC: the evening before in New York
    assert put_on_top(late, "a", None, now=NOW) is None  # type: ignore[arg-type]
    assert put_on_top(late, "a", None, now=NOW, utc_offset_minutes=-5 * 60) is not None  # type: ignore[arg-type]
