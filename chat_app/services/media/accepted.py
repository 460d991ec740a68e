"""The images and videos we accept: one table, read by the server's judging and the file picker."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MediaType:
    kind: str  # image | video
    extension: str  # what the stored file is named with
    format: str  # the Pillow format or container the content must open as
    file_extensions: tuple[str, ...]  # what the file picker offers; the content decides, never the name


# By content: the mime type the bytes really are -> what we do with them.
ACCEPTED: dict[str, MediaType] = {
    "image/jpeg": MediaType("image", "jpg", "JPEG", (".jpg", ".jpeg")),
    "image/png": MediaType("image", "png", "PNG", (".png",)),
    "image/webp": MediaType("image", "webp", "WEBP", (".webp",)),
    "image/gif": MediaType("image", "gif", "GIF", (".gif",)),
    "video/mp4": MediaType("video", "mp4", "mp4", (".mp4",)),
    "video/quicktime": MediaType("video", "mov", "mov", (".mov",)),
    "video/webm": MediaType("video", "webm", "webm", (".webm",)),
}
ACCEPTED_LIST = "JPEG, PNG, WebP or GIF images and MP4, WebM or QuickTime videos"
