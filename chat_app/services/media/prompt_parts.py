"""What a model is sent of an attachment: an OpenAI-style content part, scaled down when large."""

from __future__ import annotations

import base64
import io

from PIL import Image

from chat_app.models import MediaFile
from chat_app.services.storage import Storage, get_storage

VISION_MAX_SIDE = 2048  # providers scale larger images down anyway; sending less is faster


def prompt_part(row: MediaFile, storage: Storage | None = None) -> dict:
    """An attachment as an OpenAI-style content part (LiteLLM converts it per provider)."""
    storage = storage or get_storage()
    if row.kind == "video":
        with storage.open(row.storage_key) as f:
            data = f.read()  # bounded by chats.MAX_INLINE_VIDEO_BYTES when it was attached
        return {
            "type": "file",
            "file": {"file_data": _data_url(row.mime_type, data), "format": row.mime_type},
        }
    if max(row.width or 0, row.height or 0) <= VISION_MAX_SIDE and row.mime_type != "image/gif":
        with storage.open(row.storage_key) as f:
            return {"type": "image_url", "image_url": {"url": _data_url(row.mime_type, f.read())}}
    with storage.open(row.storage_key) as f, Image.open(f) as image:
        image.thumbnail((VISION_MAX_SIDE, VISION_MAX_SIDE))
        keeps_alpha = image.mode in ("RGBA", "LA", "P")
        image = image.convert("RGBA" if keeps_alpha else "RGB")
        out = io.BytesIO()
        image.save(out, "PNG" if keeps_alpha else "JPEG", quality=90)
    return {
        "type": "image_url",
        "image_url": {"url": _data_url("image/png" if keeps_alpha else "image/jpeg", out.getvalue())},
    }


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
