"""Images and videos: received in pieces, judged by their content, cleaned, stored, recorded,
and handed to models.

One module per job: `accepted` (the table of what we take), `sniff` (what the bytes are),
`intake` (receiving and judging), `images` and `video` (cleaning), `stored` (a file that
passed), `records` (its rows), `prompt_parts` (what a model is sent). Callers use the names
below, as `media.X`.
"""

from chat_app.services.media.accepted import ACCEPTED, ACCEPTED_LIST, MediaType
from chat_app.services.media.images import THUMB_SIZE
from chat_app.services.media.intake import Intake, Limits, clean_name
from chat_app.services.media.prompt_parts import VISION_MAX_SIDE, prompt_part
from chat_app.services.media.records import (
    UNSENT_KEPT_FOR,
    delete,
    delete_files_after_commit,
    discard_upload,
    keys_of_chat,
    media_of,
    pending_uploads,
    record,
    sweep_unsent,
)
from chat_app.services.media.sniff import HEAD_BYTES, sniff
from chat_app.services.media.stored import CHUNK, Stored, storage_keys

__all__ = [
    "ACCEPTED",
    "ACCEPTED_LIST",
    "CHUNK",
    "HEAD_BYTES",
    "THUMB_SIZE",
    "UNSENT_KEPT_FOR",
    "VISION_MAX_SIDE",
    "Intake",
    "Limits",
    "MediaType",
    "Stored",
    "clean_name",
    "delete",
    "delete_files_after_commit",
    "discard_upload",
    "keys_of_chat",
    "media_of",
    "pending_uploads",
    "prompt_part",
    "record",
    "sniff",
    "storage_keys",
    "sweep_unsent",
]
