"""Videos checked by FFmpeg (through PyAV) and remuxed without their metadata; a poster frame made."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from chat_app.services.errors import Invalid
from chat_app.services.media.accepted import MediaType
from chat_app.services.media.images import save_thumbnail
from chat_app.services.media.stored import Stored, sha256_and_size

if TYPE_CHECKING:
    from chat_app.services.media.intake import Intake

log = logging.getLogger(__name__)

_CONTAINERS = {"mp4": "mov,mp4", "mov": "mov,mp4", "webm": "matroska,webm"}


def store_video(path: Path, intake: Intake, accepted: MediaType) -> Stored:
    import av  # PyAV: FFmpeg's demuxers and decoders, imported only when a video arrives
    from av.error import FFmpegError

    storage, container_name = intake.storage, accepted.format
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
    except FFmpegError as exc:
        raise Invalid("This video is damaged or in a form that could not be read.") from exc
    with storage.staging_file() as clean:
        _remux_without_metadata(path, Path(clean.name), container_name)
        sha, size = sha256_and_size(Path(clean.name))
        key = storage.new_key(accepted.extension)
        storage.put(key, Path(clean.name))
    thumb_key = save_thumbnail(poster, storage) if poster is not None else None
    return Stored(
        "video",
        intake.judged_type,
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


def _remux_without_metadata(source: Path, target: Path, container_name: str) -> None:
    """Copy the picture and sound into a fresh container: no place, device or other metadata,
    no extra tracks (GPS tracks included), index first so browsers start playing at once.

    Packets are copied, not re-encoded, one at a time; the rotation travels with the stream.
    A video that cannot be copied so is refused: kept as it came, it would keep its metadata.
    """
    import av
    from av.error import FFmpegError

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
    except (FFmpegError, ValueError) as exc:
        log.info("could not remux an uploaded video", exc_info=True)
        raise Invalid(
            "This video could not be rewritten without its place and device details, so it was not kept. "
            "Convert it to MP4 (H.264) and send it again."
        ) from exc


def _poster(container, stream) -> Image.Image | None:
    """The first frame, or None when it cannot be decoded (the page shows a placeholder)."""
    from av.error import FFmpegError

    try:
        for frame in container.decode(stream):
            return frame.to_image()
    except (FFmpegError, ValueError):
        log.info("no poster frame for a video", exc_info=True)
    return None
