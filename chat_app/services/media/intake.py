"""One `Intake` per file: received in pieces, judged by its content, cleaned and stored.

Fed chunk by chunk by either face (the HTTP upload route, the Reflex upload handler) or by a
generation downloading its output, so a file is never held whole in memory. Nothing reaches
storage until the file has passed.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from chat_app.services.errors import Invalid
from chat_app.services.media.accepted import ACCEPTED, ACCEPTED_LIST
from chat_app.services.media.bounds import Limits, megabytes
from chat_app.services.media.images import store_image
from chat_app.services.media.sniff import HEAD_BYTES, sniff
from chat_app.services.media.stored import Stored
from chat_app.services.media.video import store_video
from chat_app.services.storage import Storage, get_storage

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(name: str | None) -> str | None:
    """The user's file name, kept only as a label. Paths are refused outright."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name).strip()
    if "/" in name or "\\" in name or name in (".", "..") or _UNSAFE_NAME.search(name):
        raise Invalid(
            "File names may not contain folders or control characters. Rename the file and try again."
        )
    return name[:255] or None


class Intake:
    """Receives one file in pieces. `write` refuses early; `finish` judges and stores it."""

    def __init__(
        self,
        name: str | None = None,
        declared_type: str | None = None,
        *,
        limits: Limits | None = None,
        storage: Storage | None = None,
    ):
        self.name = clean_name(name)
        self.declared_type = (declared_type or "").split(";")[0].strip().lower()
        self.limits = limits or Limits.configured()
        self.storage = storage or get_storage()
        self._file = self.storage.staging_file()
        self._head = b""
        self.mime_type: str | None = None
        self.size = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.mime_type is None:
            self._head += data[: HEAD_BYTES - len(self._head)]
            if len(self._head) >= HEAD_BYTES:
                self._decide_type()
        if self.mime_type is not None:
            kind = ACCEPTED[self.mime_type].kind
            limit = self.limits.bytes_for(kind)
            if self.size > limit:
                raise Invalid(f"This {kind} is larger than the {megabytes(limit)} limit.")
        self._file.write(data)

    @property
    def judged_type(self) -> str:
        """The type the content was judged to be: known once the first bytes are read."""
        if self.mime_type is None:
            raise RuntimeError("The file's type is judged from its first bytes, which have not come yet.")
        return self.mime_type

    def _decide_type(self) -> str:
        mime = sniff(self._head)
        if mime is None:
            raise Invalid(f"This file is not a supported image or video. Send {ACCEPTED_LIST}.")
        declared = self.declared_type
        if declared and declared != "application/octet-stream":
            declared_kind = ACCEPTED[declared].kind if declared in ACCEPTED else None
            if declared_kind != ACCEPTED[mime].kind:
                raise Invalid(
                    f"This file says it is {declared} but its content is {mime}; it was not accepted."
                )
        self.mime_type = mime
        return mime

    def finish(self) -> Stored:
        """Judge the whole file and move it (cleaned) into storage. Blocking: run off the event loop."""
        try:
            if self.size == 0:
                raise Invalid("This file is empty.")
            mime = self.mime_type or self._decide_type()  # decided here for a file shorter than HEAD_BYTES
            self._file.flush()
            accepted = ACCEPTED[mime]
            store = store_image if accepted.kind == "image" else store_video
            return store(Path(self._file.name), self, accepted)
        finally:
            self.discard()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
