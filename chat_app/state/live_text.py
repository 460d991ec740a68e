"""What a view sends the browser of the reply in flight: only text the page does not have yet.

The browser keeps the live text (assets/live.js); this keeps what it holds, as far as the server
knows, and says what to send next as a call of live.js: `append` (the text after what the page
has, with its offset), `reset` (the whole text, when it belongs to another reply or shrank, as a
regeneration does) or `keep` (a reply that ended as the page showed it keeps that text there, and
its saved version comes without it). Plain Python, so the rules are tested on their own.

A long reply's text goes out in pieces: every update costs about 150 bytes of its own on the
socket, so pieces of a token or two would cost the page many times the text. The start of a reply
goes as it comes; the longer the reply, the longer its pieces and the wait for them (up to 300
characters or 0.35 s, reached at 4,000 characters): a short reply is seen as it is written, and a
long one costs the page less than twice its text (at 0.3 s, a 4,000-token reply cost 2.01–2.10×
its text; at 0.35 s, 1.94×).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from chat_app.services.views import MessageView
from chat_app.state.following import LiveReply

PIECE = 300  # characters: a long reply's text goes out in pieces at least this long...
PIECE_WAIT = 0.35  # ...or this many seconds after the last one, whichever comes first
FULL_PIECES_FROM = 4_000  # characters: shorter replies wait for proportionally less
FAST_START = 200  # characters sent as they come


def piece_for(sent: int) -> tuple[int, float]:
    """The piece a reply of `sent` characters waits for: (characters, seconds), whichever first."""
    share = min(sent / FULL_PIECES_FROM, 1.0)
    return int(PIECE * share), PIECE_WAIT * share


@dataclass
class LiveTextSync:
    message_id: str = ""  # the reply whose text the page holds
    length: int = 0  # how much of it
    sent_at: float = 0.0  # when the last piece went (the event loop's clock)

    def update(self, live: LiveReply | None, now: float | None = None) -> tuple[str | None, float | None]:
        """The call that brings the page's copy up to `live` (None: it has it all). Given the
        time, a long reply's small piece is held back: then also when it is due."""
        message_id, text = (live.message_id, live.text) if live is not None else ("", "")
        sent = self.length
        if message_id == self.message_id and len(text) == sent:
            return None, None
        appended = message_id == self.message_id and len(text) > sent
        if appended and now is not None and sent >= FAST_START:
            piece, wait = piece_for(sent)
            if len(text) - sent < piece and now < self.sent_at + wait:
                return None, self.sent_at + wait
        self.message_id, self.length = message_id, len(text)
        self.sent_at = now if now is not None else 0.0
        # JSON is a safe JavaScript literal, so the text cannot become code.
        if appended:
            return f"append(refs, {sent}, {json.dumps(text[sent:])})", None
        return f"reset(refs, {json.dumps(text)})", None

    def in_page(self, live: LiveReply | None) -> tuple[str, str] | None:
        """The reply whose text the page holds, and that text."""
        if live is None or live.message_id != self.message_id:
            return None
        return live.message_id, live.text[: self.length]

    def keep(
        self, done: list[MessageView], in_page: tuple[str, str] | None
    ) -> tuple[list[MessageView], list[str]]:
        """Saved messages to show, and the calls to make first. A reply that ended as the page
        showed it is not sent again: the page keeps its text (given what it lacked, if the last
        piece was held back) and the saved version comes without it. Anything else comes whole."""
        if in_page is None:
            return done, []
        message_id, shown = in_page
        ended = next((m for m in done if m["id"] == message_id), None)
        # Nothing shown (a picture's reply, one stopped before its first word): nothing to keep.
        if ended is None or not shown or not ended["content"].startswith(shown):
            return done, []
        calls = []
        if len(ended["content"]) > len(shown):
            calls.append(f"append(refs, {len(shown)}, {json.dumps(ended['content'][len(shown) :])})")
        calls.append(f"keep(refs, {json.dumps(message_id)})")
        self.message_id, self.length = "", 0  # keep() leaves the page's live text empty
        return [MessageView(**{**m, "content": ""}) if m is ended else m for m in done], calls
