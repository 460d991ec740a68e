"""A view's bookkeeping of a chat's replies: saved rows and live events, merged without loss or repeat."""

from chat_app.state.following import Following


def row(message_id: str, seq: int, status: str = "complete", content: str = "", model_id: str = "m") -> dict:
    return {
        "id": message_id,
        "seq": seq,
        "status": status,
        "content": content,
        "model_id": model_id,
        "role": "assistant",
    }


def delta(message_id: str, at: int, text: str, replayed: bool = False) -> dict:
    event = {"type": "delta", "message_id": message_id, "at": at, "text": text}
    return {**event, "replayed": True} if replayed else event


def start(message_id: str, replayed: bool = False, kind: str = "text") -> dict:
    event = {"type": "start", "message_id": message_id, "kind": kind}
    return {**event, "replayed": True} if replayed else event


def end(message_id: str, replayed: bool = False) -> dict:
    event = {"type": "end", "message_id": message_id, "status": "complete", "error": None}
    return {**event, "replayed": True} if replayed else event


def kind_of(_model_id: str) -> str:
    return "text"


def test_a_view_opening_mid_reply_joins_the_saved_text_to_the_replayed_deltas():
    following = Following()
    done, outcome = following.settle([row("r", 2, "streaming", "tok1 tok2")], kind_of)
    assert done == [] and outcome.went_live == "r"
    outcome = following.apply(
        [
            start("r", True),
            delta("r", 0, "tok1", True),
            delta("r", 4, " tok2", True),
            delta("r", 9, " tok3", True),
            delta("r", 14, " tok4"),
        ]
    )
    assert following.live.text == "tok1 tok2 tok3 tok4"
    assert outcome.changed and not outcome.catch_up


def test_replayed_events_of_an_earlier_run_of_the_same_reply_are_ignored():
    following = Following()
    following.settle([row("r", 2, "streaming", "new")], kind_of)
    following.apply(
        [
            start("r", True),
            delta("r", 0, "an old answer that was regenerated", True),
            end("r", True),
            start("r", True),
            delta("r", 0, "new", True),
            delta("r", 3, " text", True),
        ]
    )
    assert following.live.text == "new text"


def test_replayed_events_of_other_replies_are_already_in_the_saved_messages():
    following = Following()
    following.last_seq = 4
    outcome = following.apply([start("old", True), delta("old", 0, "done long ago", True), end("old", True)])
    assert following.live is None and not outcome.catch_up and not outcome.changed


def test_a_reply_started_elsewhere_goes_live_grows_and_is_replaced_by_its_saved_version():
    following = Following()
    following.last_seq = 2
    outcome = following.apply([start("r")])
    assert outcome.went_live == "r" and outcome.catch_up  # the question sent from elsewhere is read
    done, _ = following.settle([row("q", 3, content="question"), row("r", 4, "pending")], kind_of)
    assert [m["id"] for m in done] == ["q"] and following.last_seq == 3
    following.apply([delta("r", 0, "an"), delta("r", 2, "swer")])
    assert following.live.text == "answer"
    outcome = following.apply([end("r")])
    assert outcome.catch_up and following.live is not None  # shown live until the saved one is read
    done, outcome = following.settle([row("r", 4, "complete", "answer")], kind_of)
    assert [m["id"] for m in done] == ["r"] and following.live is None and outcome.changed
    assert following.awaiting == [] and following.last_seq == 4


def test_a_restarted_reply_starts_again_from_nothing():
    following = Following()
    following.go_live("r", "first try")
    following.apply([start("r"), delta("r", 0, "second")])
    assert following.live.text == "second"


def test_a_gap_in_the_channel_is_filled_from_the_saved_text():
    following = Following()
    following.go_live("r", "abc")
    outcome = following.apply([delta("r", 10, "KLM")])  # 3..10 never arrived
    assert following.live.text == "abc" and outcome.catch_up
    following.apply([delta("r", 13, "NOP")])
    following.settle([row("r", 2, "streaming", "abcdefghijK")], kind_of)  # the saved text got past the gap
    assert following.live.text == "abcdefghijKLMNOP"


def test_the_end_of_a_reply_the_view_did_not_show_asks_for_the_saved_messages():
    following = Following()
    outcome = following.apply([end("elsewhere")])
    assert outcome.catch_up and following.live is None


def test_generation_progress_is_shown():
    following = Following()
    following.apply([start("g", kind="image")])
    following.apply(
        [
            {
                "type": "progress",
                "message_id": "g",
                "kind": "image",
                "status": "processing",
                "percent": 40,
                "elapsed": 3.2,
            }
        ]
    )
    live = following.live
    assert (live.kind, live.status, live.percent, live.elapsed) == ("image", "processing", 40, 3.2)


def test_saved_messages_come_back_in_order_once():
    following = Following()
    following.go_live("r")
    done, _ = following.settle([row("r", 5, content="five"), row("q", 4, content="four")], kind_of)
    assert [m["seq"] for m in done] == [4, 5]
    assert following.live is None and following.last_seq == 5


def test_a_chats_new_title_is_taken_heard_live_or_replayed():
    """A view that opened between the title's writing and its own subscription hears it replayed:
    the chat it read may already be out of date."""
    following = Following()
    assert following.apply([{"type": "title", "title": "Weekend plans"}]).title == "Weekend plans"
    replayed = following.apply([end("r1", True), {"type": "title", "title": "Tea", "replayed": True}])
    assert replayed.title == "Tea" and not replayed.catch_up


def test_the_chat_moving_to_another_branch_sends_the_view_to_the_database_once_not_when_replayed():
    following = Following()
    assert following.apply([{"type": "branch"}]).catch_up
    assert not following.apply([{"type": "branch", "replayed": True}]).catch_up  # read after it


def test_a_change_of_who_may_read_sends_the_view_to_the_database_which_checks_its_access_first():
    following = Following(last_seq=2)
    assert following.apply([{"type": "access"}]).catch_up
    assert not following.apply([{"type": "access", "replayed": True}]).catch_up  # read after it


def test_a_saved_replys_count_of_tokens_is_shown_when_heard_live_not_when_replayed():
    following = Following(last_seq=2)
    outcome = following.apply([{"type": "usage", "message_id": "r1"}])
    assert outcome.counted == ["r1"] and not outcome.catch_up  # one message's footer, no catch-up
    assert following.apply([{"type": "usage", "message_id": "r1", "replayed": True}]).counted == []
