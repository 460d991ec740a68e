"""What one view of a chat knows of its replies: the saved messages it shows and the reply in flight.

Plain Python (no Reflex), so the rules are tested on their own: a view combines the messages it
read from the database with the events of the chat's live channel (services/live.py), which may
overlap with them, arrive replayed, or (rarely) leave a gap. The state applies what this decides.

The saved text of a reply is always a prefix of its live text, and every delta carries its
offset, so text is merged by position: nothing shown twice, nothing skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chat_app.services.views import MessageView

IN_FLIGHT = ("pending", "streaming")

Event = dict[str, Any]


@dataclass
class LiveReply:
    message_id: str
    kind: str = "text"  # text | image | video
    text: str = ""
    status: str = ""  # a generation's: starting | processing | downloading
    percent: int = -1  # from the model's logs; -1 when it gives none
    elapsed: float = 0.0


@dataclass
class Outcome:
    changed: bool = False  # the reply in flight looks different
    catch_up: bool = False  # saved messages changed (a reply started or ended, or text is missing)
    went_live: str = ""  # a message now shown as the reply in flight (hide its saved version)
    title: str = ""  # the chat's new title, written from its first exchange
    counted: list[str] = field(default_factory=list)  # replies whose tokens were counted after their end


@dataclass
class Following:
    last_seq: int = 0  # the last saved message the view shows
    awaiting: list[str] = field(default_factory=list)  # replies taken off screen to stream live
    live: LiveReply | None = None
    _ahead: dict[int, str] = field(default_factory=dict)  # deltas past the known text, by offset

    # ----- what the database says ----------------------------------------------------------
    def go_live(self, message_id: str, text: str = "", kind: str = "text") -> None:
        """Show `message_id` as the reply in flight, from its saved text."""
        if self.live is None or self.live.message_id != message_id:
            self.live = LiveReply(
                message_id, kind=kind, text=text, status="" if kind == "text" else "starting"
            )
            self._ahead.clear()
        elif len(text) > len(self.live.text):
            self.live.text = text  # the saved text got ahead of what the channel gave us
        self._take_ahead()
        if message_id not in self.awaiting:
            self.awaiting.append(message_id)

    def settle(self, rows: list[MessageView], kind_of) -> tuple[list[MessageView], Outcome]:
        """Messages read from the database (newer than `last_seq`, or awaited): returns the saved
        ones to show, in order; one in flight becomes (or feeds) the reply shown live."""
        outcome = Outcome()
        done = sorted((r for r in rows if r["status"] not in IN_FLIGHT), key=lambda r: r["seq"])
        for row in rows:
            if row["status"] in IN_FLIGHT:
                before = self.live.message_id if self.live else ""
                self.go_live(row["id"], row["content"], kind_of(row["model_id"]))
                outcome.changed = True
                if before != row["id"]:
                    outcome.went_live = row["id"]
        if done:
            ids = {r["id"] for r in done}
            self.awaiting = [i for i in self.awaiting if i not in ids]
            self.last_seq = max(self.last_seq, done[-1]["seq"])
            if self.live is not None and self.live.message_id in ids:
                self.live = None
                self._ahead.clear()
                outcome.changed = True
        return done, outcome

    # ----- what the live channel says ------------------------------------------------------
    def apply(self, events: list[Event]) -> Outcome:
        outcome = Outcome()
        events = self._current_run(events)
        for event in events:
            kind, message_id = event["type"], event.get("message_id", "")
            is_live = self.live is not None and self.live.message_id == message_id
            if kind == "title":  # replayed too: a view that opened meanwhile read the chat before it
                outcome.title = event["title"]
                continue
            if event.get("replayed"):
                # The view read the database after these: only the live reply's text may be newer.
                if is_live and kind == "delta":
                    outcome.changed |= self._merge(event["at"], event["text"])
                elif is_live and kind == "progress":
                    self._progress(event)
                    outcome.changed = True
                continue
            if kind == "usage":  # a saved reply's tokens and cost, counted after its end
                outcome.counted.append(message_id)
                continue
            if kind == "start":
                if not is_live:
                    outcome.went_live = message_id
                    outcome.catch_up = True  # e.g. the question another tab just sent
                self.go_live(message_id, "", event.get("kind", "text"))
                assert self.live is not None
                self.live.text = ""  # a new run of the reply starts from nothing
                self._ahead.clear()
                outcome.changed = True
            elif kind == "delta" and is_live:
                merged = self._merge(event["at"], event["text"])
                outcome.changed |= merged
                outcome.catch_up |= bool(self._ahead)  # text is missing: the saved text fills it
            elif kind == "progress" and is_live:
                self._progress(event)
                outcome.changed = True
            elif kind in ("end", "delta", "progress", "branch", "access"):
                # a reply ended (or one we did not see start runs), the chat moved to another
                # branch, or who may read it changed (a catch-up checks the reader's access first)
                outcome.catch_up = True
        return outcome

    def _current_run(self, events: list[Event]) -> list[Event]:
        """Replayed events of the live reply from before its latest start belong to an earlier run."""
        if self.live is None:
            return events
        starts = [
            i
            for i, e in enumerate(events)
            if e.get("replayed") and e["type"] == "start" and e.get("message_id") == self.live.message_id
        ]
        if not starts:
            return events
        cut = starts[-1]
        return [
            e
            for i, e in enumerate(events)
            if i > cut or not (e.get("replayed") and e.get("message_id") == self.live.message_id)
        ]

    def _progress(self, event: Event) -> None:
        assert self.live is not None
        self.live.kind = event.get("kind", self.live.kind)
        self.live.status = event.get("status", "")
        percent = event.get("percent")
        self.live.percent = -1 if percent is None else int(percent)
        self.live.elapsed = float(event.get("elapsed") or 0.0)

    def _merge(self, at: int, text: str) -> bool:
        """Add a delta at its offset; True when the text grew."""
        assert self.live is not None
        known = len(self.live.text)
        if at > known:
            self._ahead[at] = text
            return False
        if at + len(text) <= known:
            return False
        self.live.text += text[known - at :]
        self._take_ahead()
        return True

    def _take_ahead(self) -> None:
        """Deltas held past the end of the text join it once it reaches them."""
        if self.live is None:
            return
        while self._ahead:
            known = len(self.live.text)
            usable = [at for at in self._ahead if at <= known]
            if not usable:
                return
            for at in sorted(usable):
                text = self._ahead.pop(at)
                known = len(self.live.text)
                if at + len(text) > known:
                    self.live.text += text[known - at :]
