"""Images and videos: received in pieces, judged by their content, cleaned, stored, recorded,
and handed to models.

One module per job: `accepted` (the table of what we take), `bounds` (the limits, from the
settings), `sniff` (what the bytes are), `intake` (receiving and judging one file), `batch` (one
upload request's files), `images` and `video` (cleaning), `animation` with `gif`, `apng` and
`webp` (animations bounded and cleaned without decoding), `stored` (a file that passed),
`records` (its rows, the storage quota, the sweep), `prompt_parts` (what a model is sent).
Callers use the names below, as `media.X`.
"""

from chat_app.services.media.accepted import ACCEPTED, ACCEPTED_LIST, MediaType
from chat_app.services.media.batch import PART_AT_LEAST, UploadBatch
from chat_app.services.media.bounds import Limits, past_upload_bytes
from chat_app.services.media.images import THUMB_SIZE
from chat_app.services.media.intake import Intake, clean_name
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
    record_uploads,
    stored_bytes,
    sweep_unsent,
)
from chat_app.services.media.sniff import HEAD_BYTES, sniff
from chat_app.services.media.stored import CHUNK, Stored, storage_keys

__all__ = [
    "ACCEPTED",
    "ACCEPTED_LIST",
    "CHUNK",
    "HEAD_BYTES",
    "PART_AT_LEAST",
    "THUMB_SIZE",
    "UNSENT_KEPT_FOR",
    "VISION_MAX_SIDE",
    "Intake",
    "Limits",
    "MediaType",
    "Stored",
    "UploadBatch",
    "clean_name",
    "delete",
    "delete_files_after_commit",
    "discard_upload",
    "keys_of_chat",
    "media_of",
    "past_upload_bytes",
    "pending_uploads",
    "prompt_part",
    "record",
    "record_uploads",
    "sniff",
    "storage_keys",
    "stored_bytes",
    "sweep_unsent",
]
