"""Images and videos: received in pieces, judged by their content, cleaned, stored, recorded.

One `Intake` per file, fed chunk by chunk by either face (the HTTP upload route, the
Reflex upload handler) or by a generation downloading its output, so a file is never held
whole in memory. Nothing reaches storage or the database until the file has passed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel import Session, select

from chat_app.models import MediaFile, User, utcnow
from chat_app.services.errors import Invalid
from chat_app.services.storage import Storage, get_storage
from chat_app.settings import get_settings

log = logging.getLogger(__name__)

THUMB_SIZE = (512, 512)
HEAD_BYTES = 64  # enough of the start of a file to tell its type
CHUNK = 1024 * 1024

# What we accept, by content: mime -> (kind, extension, Pillow format or container name).
ACCEPTED = {
    "image/jpeg": ("image", "jpg", "JPEG"),
    "image/png": ("image", "png", "PNG"),
    "image/webp": ("image", "webp", "WEBP"),
    "image/gif": ("image", "gif", "GIF"),
    "video/mp4": ("video", "mp4", "mp4"),
    "video/quicktime": ("video", "mov", "mov"),
    "video/webm": ("video", "webm", "webm"),
}
ACCEPTED_LIST = "JPEG, PNG, WebP or GIF images and MP4, WebM or QuickTime videos"


def sniff(head: bytes) -> str | None:
    """The media type the bytes really are, or None for anything we do not accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head:
        return "video/webm"
    return None


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


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


@dataclass(frozen=True)
class Limits:
    image_bytes: int
    video_bytes: int
    image_pixels: int

    @classmethod
    def configured(cls) -> Limits:
        s = get_settings()
        return cls(s.max_image_bytes, s.max_video_bytes, s.max_image_pixels)

    def bytes_for(self, kind: str) -> int:
        return self.image_bytes if kind == "image" else self.video_bytes


@dataclass(frozen=True)
class Stored:
    """A file that passed and now sits in storage, not yet recorded."""

    kind: str
    mime_type: str
    byte_size: int
    sha256: str
    storage_key: str
    thumb_key: str | None
    width: int | None
    height: int | None
    duration: float | None
    original_name: str | None


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
            limit = self.limits.bytes_for(ACCEPTED[self.mime_type][0])
            if self.size > limit:
                raise Invalid(f"This {ACCEPTED[self.mime_type][0]} is larger than the {_mb(limit)} limit.")
        self._file.write(data)

    def _decide_type(self) -> None:
        mime = sniff(self._head)
        if mime is None:
            raise Invalid(f"This file is not a supported image or video. Send {ACCEPTED_LIST}.")
        declared = self.declared_type
        if declared and declared != "application/octet-stream":
            declared_kind = ACCEPTED.get(declared, (None,))[0]
            if declared_kind != ACCEPTED[mime][0]:
                raise Invalid(
                    f"This file says it is {declared} but its content is {mime}; it was not accepted."
                )
        self.mime_type = mime

    def finish(self) -> Stored:
        """Judge the whole file and move it (cleaned) into storage. Blocking: run off the event loop."""
        try:
            if self.size == 0:
                raise Invalid("This file is empty.")
            if self.mime_type is None:
                self._decide_type()  # a file shorter than HEAD_BYTES
            self._file.flush()
            kind, extension, fmt = ACCEPTED[self.mime_type]
            if kind == "image":
                return _store_image(Path(self._file.name), self, extension, fmt)
            return _store_video(Path(self._file.name), self, extension, fmt)
        finally:
            self.discard()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()


def _sha256_and_size(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _save_thumbnail(image: Image.Image, storage: Storage) -> str:
    thumb = image.copy()
    thumb.thumbnail(THUMB_SIZE)
    if thumb.mode in ("RGBA", "LA", "P"):
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    key = storage.new_key("thumb.jpg")
    with storage.staging_file() as out:
        thumb.save(out, "JPEG", quality=85)
        out.flush()
        storage.put(key, Path(out.name))
    return key


def _store_image(path: Path, intake: Intake, extension: str, fmt: str) -> Stored:
    storage, limits = intake.storage, intake.limits
    try:
        with Image.open(path) as image:
            if image.format != fmt:
                raise Invalid(f"This file is not a valid {fmt} image.")
            width, height = image.size
            if width * height > limits.image_pixels:
                raise Invalid(
                    f"This image is {width:,}×{height:,} pixels; the limit is "
                    f"{limits.image_pixels / 1_000_000:,.0f} million pixels."
                )
            image.load()  # a truncated or corrupt file fails here
            animated = getattr(image, "n_frames", 1) > 1
            with storage.staging_file() as clean:
                # Re-encoding drops EXIF (GPS, camera, …) and any other metadata we do not copy.
                if animated:
                    image.info.pop("exif", None)
                    image.save(
                        clean,
                        fmt,
                        save_all=True,
                        loop=image.info.get("loop", 0),
                        duration=image.info.get("duration"),
                    )
                    upright = image
                else:
                    upright = ImageOps.exif_transpose(image)
                    options = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
                    if fmt == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
                        upright = upright.convert("RGB")
                    upright.save(clean, fmt, icc_profile=image.info.get("icc_profile"), **options)
                clean.flush()
                sha, size = _sha256_and_size(Path(clean.name))
                key = storage.new_key(extension)
                storage.put(key, Path(clean.name))
            thumb_key = _save_thumbnail(upright, storage)
            width, height = upright.size
    except Image.DecompressionBombError:
        raise Invalid("This image has too many pixels to open safely.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid("This image is damaged or incomplete and could not be read.") from exc
    return Stored("image", intake.mime_type, size, sha, key, thumb_key, width, height, None, intake.name)


_CONTAINERS = {"mp4": "mov,mp4", "mov": "mov,mp4", "webm": "matroska,webm"}


def _store_video(path: Path, intake: Intake, extension: str, container_name: str) -> Stored:
    import av  # PyAV: FFmpeg's demuxers and decoders, imported only when a video arrives

    storage = intake.storage
    try:
        with av.open(str(path)) as container:
            if not container.format.name.startswith(_CONTAINERS[container_name]):
                raise Invalid("This video's content does not match its format.")
            if not container.streams.video:
                raise Invalid("This file has no video track.")
            stream = container.streams.video[0]
            duration = None
            if container.duration:
                duration = container.duration / av.time_base
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            width, height = stream.codec_context.width or None, stream.codec_context.height or None
            poster = _poster(container, stream)
    except av.error.FFmpegError as exc:
        raise Invalid("This video is damaged or in a form that could not be read.") from exc
    with storage.staging_file() as clean:
        kept = (
            path if not _remux_without_metadata(path, Path(clean.name), container_name) else Path(clean.name)
        )
        sha, size = _sha256_and_size(kept)
        key = storage.new_key(extension)
        storage.put(key, kept)
    thumb_key = _save_thumbnail(poster, storage) if poster is not None else None
    return Stored(
        "video",
        intake.mime_type,
        size,
        sha,
        key,
        thumb_key,
        width,
        height,
        round(duration, 3) if duration else None,
        intake.name,
    )


_MUXERS = {
    "mp4": ("mp4", {"movflags": "+faststart"}),
    "mov": ("mov", {"movflags": "+faststart"}),
    "webm": ("webm", {}),
}


def _remux_without_metadata(source: Path, target: Path, container_name: str) -> bool:
    """Copy the picture and sound into a fresh container: no place, device or other metadata,
    no extra tracks (GPS tracks included), index first so browsers start playing at once.

    Packets are copied, not re-encoded, one at a time; the rotation travels with the stream.
    False when the file cannot be remuxed (it is then kept as it came).
    """
    import av

    muxer, options = _MUXERS[container_name]
    try:
        with av.open(str(source)) as inp, av.open(str(target), "w", format=muxer, options=options) as out:
            kept = [s for s in inp.streams if s.type in ("video", "audio")]
            twins = {s.index: out.add_stream_from_template(s) for s in kept}
            for packet in inp.demux(kept):
                if packet.dts is None:  # demuxers end each stream with an empty packet
                    continue
                packet.stream = twins[packet.stream.index]
                out.mux(packet)
        return True
    except (av.error.FFmpegError, ValueError):
        log.warning("could not remux an uploaded video; keeping it as it came", exc_info=True)
        return False


def _poster(container, stream) -> Image.Image | None:
    """The first frame, or None when it cannot be decoded (the page shows a placeholder)."""
    import av

    try:
        for frame in container.decode(stream):
            return frame.to_image()
    except (av.error.FFmpegError, ValueError):
        log.info("no poster frame for a video", exc_info=True)
    return None


# ----- records -----------------------------------------------------------------------


def record(
    stored: Stored,
    *,
    owner_id: uuid.UUID | None,
    session: Session,
    chat_id: uuid.UUID | None = None,
    message_id: uuid.UUID | None = None,
) -> MediaFile:
    """Save the row of a stored file. Without a message it is an upload waiting to be sent."""
    if message_id is None and owner_id is not None:
        sweep_unsent(owner_id, session=session)
    row = MediaFile(
        session_id=chat_id,
        message_id=message_id,
        owner_id=owner_id,
        kind=stored.kind,
        mime_type=stored.mime_type,
        byte_size=stored.byte_size,
        width=stored.width,
        height=stored.height,
        duration=stored.duration,
        sha256=stored.sha256,
        storage_key=stored.storage_key,
        thumb_key=stored.thumb_key,
        original_name=stored.original_name,
    )
    session.add(row)
    session.flush()
    return row


UNSENT_KEPT_FOR = timedelta(days=1)


def sweep_unsent(owner_id: uuid.UUID, *, session: Session, older_than: timedelta = UNSENT_KEPT_FOR) -> int:
    """Remove the owner's uploads that were never sent (a closed tab, a removed chip).

    Called when they upload again, so abandoned files never pile up (index ix_media_files_owner_pending).
    """
    stale = session.exec(
        select(MediaFile).where(
            MediaFile.owner_id == owner_id,
            MediaFile.message_id.is_(None),
            MediaFile.created_at < utcnow() - older_than,
        )
    ).all()
    delete(stale, session=session)
    return len(stale)


def forget_files(stored: Stored, storage: Storage | None = None) -> None:
    """Remove a stored file whose record could not be saved."""
    storage = storage or get_storage()
    for key in (stored.storage_key, stored.thumb_key):
        if key:
            storage.delete(key)


def pending_uploads(owner: User, ids: list[str], *, session: Session) -> list[MediaFile]:
    """The actor's own unsent uploads named by `ids`, in that order; anything else is refused."""
    if not ids:
        return []
    try:
        wanted = [uuid.UUID(str(i)) for i in ids]
    except ValueError:
        raise Invalid("One of the attachments is not valid. Attach the file again.") from None
    rows = {
        row.id: row
        for row in session.exec(
            select(MediaFile).where(
                MediaFile.id.in_(wanted), MediaFile.owner_id == owner.id, MediaFile.message_id.is_(None)
            )
        )
    }
    if len(rows) != len(set(wanted)):
        raise Invalid("One of the attachments is gone or already sent. Attach the file again.")
    return [rows[i] for i in dict.fromkeys(wanted)]


def discard_upload(owner: User, media_id: str, *, session: Session) -> None:
    """Remove one of the owner's unsent uploads (a chip taken off the composer)."""
    delete(pending_uploads(owner, [media_id], session=session), session=session)


def media_of(message_ids: list[uuid.UUID], *, session: Session) -> dict[uuid.UUID, list[MediaFile]]:
    """Every file of these messages, grouped by message, in upload order (one indexed query)."""
    grouped: dict[uuid.UUID, list[MediaFile]] = {}
    if not message_ids:
        return grouped
    for row in session.exec(
        select(MediaFile).where(MediaFile.message_id.in_(message_ids)).order_by(MediaFile.created_at)
    ):
        grouped.setdefault(row.message_id, []).append(row)
    return grouped


def keys_of_chat(chat_id: uuid.UUID, *, session: Session) -> list[str]:
    """Storage keys of a chat's files, to remove once its rows are gone."""
    rows = session.exec(
        sa.select(MediaFile.storage_key, MediaFile.thumb_key).where(MediaFile.session_id == chat_id)
    ).all()
    return [k for pair in rows for k in pair if k]


def delete(rows: list[MediaFile], *, session: Session) -> None:
    """Delete these records; their files go once the deletion is committed."""
    delete_files_after_commit(session, [k for row in rows for k in (row.storage_key, row.thumb_key) if k])
    for row in rows:
        session.delete(row)


def delete_files_after_commit(session: Session, keys: list[str]) -> None:
    """Files go only when the rows naming them are really gone."""
    if not keys:
        return
    storage = get_storage()

    def _delete(_session) -> None:
        for key in keys:
            try:
                storage.delete(key)
            except OSError:
                log.warning("could not delete media file %s", key, exc_info=True)

    sa.event.listen(session, "after_commit", _delete, once=True)


# ----- what a model is sent ----------------------------------------------------------

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
