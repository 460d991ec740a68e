"""What a view sends the browser of the reply in flight: only what the page lacks, in pieces once
the reply is long, and nothing again when the reply ends as the page showed it."""

from __future__ import annotations

import json

from chat_app.services.views import MessageView
from chat_app.state import live_text
from chat_app.state.following import LiveReply
from chat_app.state.live_text import LiveTextSync


def saved(message_id: str, content: str) -> MessageView:
    return MessageView(
        id=message_id,
        seq=2,
        role="assistant",
        content=content,
        status="complete",
        model_id="openai/gpt-4o",
        error="",
        input_tokens=1,
        output_tokens=1,
        cost=0.0,
        cost_label="",
        context_note="",
        media=[],
    )


def test_each_update_carries_only_what_is_new_with_its_offset():
    sync, reply = LiveTextSync(), LiveReply("r1", text="")
    assert sync.update(reply) == ('reset(refs, "")', None)
    reply.text = "Hello"
    assert sync.update(reply, now=0.0) == ('append(refs, 0, "Hello")', None)
    assert sync.update(reply, now=0.1) == (None, None)  # nothing new: nothing sent
    reply.text = 'Hello, "world"'
    quoted = json.dumps(', "world"')  # a safe JavaScript literal
    assert sync.update(reply, now=0.2) == (f"append(refs, 5, {quoted})", None)


def test_another_reply_or_a_shorter_text_is_sent_whole():
    sync = LiveTextSync()
    sync.update(LiveReply("r1", text="an old run of the reply"))
    assert sync.update(LiveReply("r1", text="new")) == ('reset(refs, "new")', None)  # regenerated
    assert sync.update(LiveReply("r2", text="other")) == ('reset(refs, "other")', None)
    assert sync.update(None) == ('reset(refs, "")', None)  # no reply in flight


def test_a_long_replys_small_pieces_wait_until_they_are_long_or_due():
    sync, reply = LiveTextSync(), LiveReply("r1", text="")
    sync.update(reply)
    reply.text = "x" * 150
    assert sync.update(reply, now=0.0)[0] is not None  # the start goes as it comes
    reply.text = "x" * 6_000
    assert sync.update(reply, now=1.0)[0] is not None
    assert live_text.piece_for(6_000) == (live_text.PIECE, live_text.PIECE_WAIT)
    reply.text += "y" * 100
    assert sync.update(reply, now=1.1) == (None, 1.0 + live_text.PIECE_WAIT)  # held back
    reply.text += "y" * 100
    assert sync.update(reply, now=1.2)[0] is None
    call, _ = sync.update(reply, now=1.0 + live_text.PIECE_WAIT)  # due: whatever there is goes
    assert call == f'append(refs, 6000, "{"y" * 200}")'
    reply.text += "z" * live_text.PIECE  # a whole piece goes at once
    assert sync.update(reply, now=1.31)[0] == f'append(refs, 6200, "{"z" * live_text.PIECE}")'


def test_the_pieces_grow_with_the_reply():
    short, _ = live_text.piece_for(live_text.FAST_START)
    middle, middle_wait = live_text.piece_for(3_000)
    assert short < middle < live_text.PIECE and 0 < middle_wait < live_text.PIECE_WAIT
    assert live_text.piece_for(100_000) == (live_text.PIECE, live_text.PIECE_WAIT)


def test_a_reply_that_ended_as_shown_is_kept_in_the_page_not_sent_again():
    sync, reply = LiveTextSync(), LiveReply("r1", text="")
    sync.update(reply)
    reply.text = "x" * 7_000
    sync.update(reply, now=1.0)
    reply.text += "tail"  # held back when the reply ended
    assert sync.update(reply, now=1.01)[0] is None
    in_page = sync.in_page(reply)
    done, calls = sync.keep([saved("q", "the question"), saved("r1", "x" * 7_000 + "tail")], in_page)
    assert calls == ['append(refs, 7000, "tail")', 'keep(refs, "r1")']
    assert [m["content"] for m in done] == ["the question", ""]  # the reply's text is not re-sent
    assert sync.update(None) == (None, None)  # keep() emptied the page's live text


def test_a_saved_reply_unlike_what_the_page_shows_comes_whole():
    sync, reply = LiveTextSync(), LiveReply("r1", text="")
    sync.update(reply)
    reply.text = "what streamed"
    sync.update(reply)
    in_page = sync.in_page(reply)
    done, calls = sync.keep([saved("r1", "something else")], in_page)
    assert calls == [] and done[0]["content"] == "something else"
    assert sync.keep([saved("r1", "what streamed")], None) == ([saved("r1", "what streamed")], [])


def test_a_reply_that_showed_no_text_comes_whole_and_is_not_kept():
    """A picture's reply (or one stopped before its first word) leaves nothing kept in the page:
    a kept empty text would let the next reply's live text show in it."""
    sync, reply = LiveTextSync(), LiveReply("r1", text="")
    sync.update(reply)
    in_page = sync.in_page(reply)
    assert in_page == ("r1", "")
    done, calls = sync.keep([saved("r1", "")], in_page)
    assert calls == [] and done == [saved("r1", "")]
