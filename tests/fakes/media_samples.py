"""Real, small media files as ``bytes`` for tests and fakes.

Every function returns genuine encoded bytes (Pillow for images, PyAV/FFmpeg for video) so the
code under test meets what a browser or a model API would really send: images with a visible
pattern, a JPEG carrying EXIF orientation and GPS data (to prove metadata is stripped and the
orientation applied), animated GIFs, H.264/VP9 video a browser can play, and hostile inputs - a
decompression-bomb PNG, a truncated JPEG, HTML and an SVG with a ``<script>``.

Output is deterministic for the same arguments and cached (``functools.lru_cache``), so repeated
calls are free; callers get immutable ``bytes``.
"""

from __future__ import annotations

import io
import struct
import tempfile
import zlib
from collections.abc import Iterator
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path

import av
from PIL import ExifTags, Image, ImageDraw

RGB = tuple[int, int, int]

__all__ = [
    "animated_png",
    "animated_webp",
    "bomb_png",
    "gif",
    "gif_bomb",
    "gif_of_many_frames",
    "gif_with_metadata",
    "html_page",
    "jpeg",
    "jpeg_with_exif",
    "mov",
    "mp4",
    "noise_png",
    "png",
    "svg",
    "truncated_jpeg",
    "webm",
    "webm_holding_h264",
    "webp",
]


# --------------------------------------------------------------------------- images


def _pattern(width: int, height: int, color: RGB = (200, 40, 40)) -> Image.Image:
    """A diagonal gradient tinted by ``color`` with a white bar, so the image is never blank."""
    image = Image.new("RGB", (width, height))
    pixels = [
        (
            (color[0] * x // max(1, width - 1) + 255 * y // max(1, height - 1)) // 2,
            (color[1] + 255 * x // max(1, width - 1)) // 2,
            (color[2] + 255 * y // max(1, height - 1)) // 2,
        )
        for y in range(height)
        for x in range(width)
    ]
    image.putdata(pixels)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 4, height // 3, width // 2, height // 3 + max(1, height // 8)), fill="white")
    return image


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


@lru_cache(maxsize=32)
def png(width: int = 64, height: int = 48, color: RGB = (200, 40, 40)) -> bytes:
    """An RGB PNG with a gradient pattern."""
    return _encode(_pattern(width, height, color), "PNG")


@lru_cache(maxsize=8)
def noise_png(width: int = 450, height: int = 450, seed: int = 0) -> bytes:
    """An RGB PNG of random pixels: it hardly compresses (about 3 bytes a pixel), for tests of sizes."""
    import random

    return _encode(
        Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3)), "PNG"
    )


@lru_cache(maxsize=32)
def jpeg(width: int = 64, height: int = 48, color: RGB = (40, 120, 200)) -> bytes:
    """A plain baseline JPEG (no EXIF)."""
    return _encode(_pattern(width, height, color), "JPEG", quality=90)


@lru_cache(maxsize=32)
def jpeg_with_exif(width: int = 80, height: int = 40, orientation: int = 6, gps: bool = True) -> bytes:
    """A JPEG stored ``width``x``height`` whose EXIF has ``Orientation`` and (optionally) a GPS IFD.

    With orientation 6 ("rotate 90 CW") a viewer that honours EXIF shows it ``height``x``width``.
    Camera make/model and a capture date are included too, as a phone would write them.
    """
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "FakeCam"
    exif[ExifTags.Base.Model] = "FC-1000"
    exif[ExifTags.Base.DateTime] = "2024:05:17 12:34:56"
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
        info[ExifTags.GPS.GPSLatitudeRef] = "N"
        info[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.5)
        info[ExifTags.GPS.GPSLongitudeRef] = "W"
        info[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 39.0)
        info[ExifTags.GPS.GPSAltitudeRef] = b"\x00"
        info[ExifTags.GPS.GPSAltitude] = 35.0
    return _encode(_pattern(width, height, (220, 180, 20)), "JPEG", quality=90, exif=exif)


@lru_cache(maxsize=8)
def webp(width: int = 64, height: int = 48) -> bytes:
    """A lossy WebP image."""
    return _encode(_pattern(width, height, (40, 200, 90)), "WEBP", quality=80)


@lru_cache(maxsize=8)
def gif(frames: int = 2, width: int = 32, height: int = 24) -> bytes:
    """An animated GIF (looping, 100 ms per frame); every frame has a different colour."""
    images = _gif_frames(frames, width, height)
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buf.getvalue()


# What a phone or an editor leaves in a file: found by these words if it survives cleaning.
SECRET_PLACE = b"Secret Street 12"
SECRET_DEVICE = b"FakeCam FC-1000"


def _gif_frames(frames: int, width: int, height: int) -> list[Image.Image]:
    return [
        _pattern(width, height, ((60 + 90 * i) % 256, (200 - 50 * i) % 256, (30 + 70 * i) % 256)).convert(
            "P", palette=Image.Palette.ADAPTIVE
        )
        for i in range(max(1, frames))
    ]


def _metadata_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = SECRET_DEVICE.decode()
    exif[ExifTags.Base.ImageDescription] = SECRET_PLACE.decode()
    return exif


def _xmp() -> bytes:
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description photoshop:City="'
        + SECRET_PLACE
        + b'"/></x:xmpmeta>'
    )


@lru_cache(maxsize=2)
def gif_with_metadata(frames: int = 3) -> bytes:
    """An animated GIF carrying a comment, an XMP block and a text block (place and device)."""
    buf = io.BytesIO()
    images = _gif_frames(frames, 32, 24)
    images[0].save(
        buf, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0, comment=SECRET_DEVICE
    )
    data = buf.getvalue()
    # After the header, screen descriptor and colour table: an XMP application block and a plain
    # text block, each as its sub-blocks of at most 255 bytes.
    flags = data[10]
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    xmp = b"!\xff\x0bXMP DataXMP" + _sub_blocks(_xmp())
    text = b"!\x01" + _sub_blocks(b"\x0c" + b"\0" * 12 + SECRET_PLACE)
    return data[:at] + xmp + text + data[at:]


def _sub_blocks(payload: bytes) -> bytes:
    pieces = [payload[i : i + 255] for i in range(0, len(payload), 255)]
    return b"".join(bytes([len(p)]) + p for p in pieces) + b"\0"


@lru_cache(maxsize=2)
def gif_bomb(frames: int = 60, side: int = 1500) -> bytes:
    """An animated GIF whose every frame is ``side``x``side`` of one colour: ~220 KB for 60 frames of
    1500x1500, yet playing it once decodes 135 million pixels."""
    images = []
    for i in range(frames):
        image = Image.new("P", (side, side), i % 256)
        image.putpalette([(j * 37) % 256 for j in range(768)])
        images.append(image)
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=50, loop=0)
    return buf.getvalue()


@lru_cache(maxsize=2)
def gif_of_many_frames(frames: int = 200_000) -> bytes:
    """A GIF of ``frames`` frames of one pixel, written block by block (~23 bytes a frame): few
    pixels, but a walk through every frame costs seconds."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"!\xff\x0bNETSCAPE2.0\x03\x01\0\0\0"
    frame = b"!\xf9\x04\0\x01\0\0\0" + b",\0\0\0\0\x01\0\x01\0\0" + b"\x02\x02\x44\x01\0"
    return screen + loop + frame * frames + b";"


@lru_cache(maxsize=2)
def animated_png(frames: int = 3, width: int = 32, height: int = 24) -> bytes:
    """An APNG carrying text, EXIF (place and device) and a timestamp."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", SECRET_PLACE.decode())
    info.add_itxt("Device", SECRET_DEVICE.decode())
    images = [image.convert("RGB") for image in _gif_frames(frames, width, height)]
    return _encode(
        images[0],
        "PNG",
        save_all=True,
        append_images=images[1:],
        duration=80,
        loop=0,
        pnginfo=info,
        exif=_metadata_exif(),
    )


@lru_cache(maxsize=2)
def animated_webp(frames: int = 3, width: int = 32, height: int = 24) -> bytes:
    """An animated WebP carrying EXIF and XMP (place and device)."""
    images = [image.convert("RGB") for image in _gif_frames(frames, width, height)]
    return _encode(
        images[0],
        "WEBP",
        save_all=True,
        append_images=images[1:],
        duration=80,
        loop=0,
        quality=80,
        exif=_metadata_exif(),
        xmp=_xmp(),
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@lru_cache(maxsize=4)
def bomb_png(side: int = 30000) -> bytes:
    """A valid 1-bit greyscale PNG declaring ``side``x``side`` pixels, all black: a decompression bomb.

    Built by hand (IHDR, one IDAT streamed through ``zlib.compressobj(9)``, IEND) because
    no imaging library should ever hold it decoded; 30000x30000 is ~110 KB on disk.
    """
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte "None" + packed 1-bit pixels
    compressor = zlib.compressobj(9)
    block_rows = max(1, (1 << 20) // len(row))
    parts: list[bytes] = []
    for start in range(0, side, block_rows):
        parts.append(compressor.compress(row * min(block_rows, side - start)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # depth 1, greyscale, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


@lru_cache(maxsize=1)
def truncated_jpeg() -> bytes:
    """A real JPEG cut to half its length: the header parses, decoding the pixels fails."""
    data = jpeg(160, 120, (90, 30, 160))
    return data[: len(data) // 2]


# --------------------------------------------------------------------------- documents


def html_page() -> bytes:
    """A small HTML document with an inline script (for content-sniffing / XSS tests)."""
    return (
        b"<!doctype html><html><head><meta charset='utf-8'><title>Not an image</title></head>"
        b"<body><h1>Hello</h1><script>alert(1)</script></body></html>"
    )


def svg() -> bytes:
    """A real SVG image (a red circle) that also carries a ``<script>`` element."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        b'<circle cx="32" cy="32" r="24" fill="#c82828"/>'
        b"<script>alert(document.domain)</script>"
        b"</svg>"
    )


# --------------------------------------------------------------------------- video


def _frames(seconds: float, width: int, height: int, fps: int) -> Iterator[Image.Image]:
    """Frames whose hue changes and whose white square moves left to right over time."""
    count = max(1, round(seconds * fps))
    side = max(2, min(width, height) // 3)
    for i in range(count):
        t = i / max(1, count - 1)
        background = (int(255 * t), int(255 * (1 - t)), (60 + 8 * i) % 256)
        image = Image.new("RGB", (width, height), background)
        left = int((width - side) * t)
        ImageDraw.Draw(image).rectangle((left, height // 3, left + side - 1, height // 3 + side - 1), "white")
        yield image


def _video(
    fmt: str,
    codec: str,
    seconds: float,
    width: int,
    height: int,
    fps: int,
    options: dict[str, str],
    container_options: dict[str, str] | None = None,
) -> bytes:
    # A real file, not BytesIO: ``movflags=+faststart`` re-opens the output to move ``moov`` up front.
    with tempfile.TemporaryDirectory(prefix="media-sample-") as folder:
        path = Path(folder) / f"sample.{fmt}"
        _write_video(path, fmt, codec, seconds, width, height, fps, options, container_options or {})
        return path.read_bytes()


def _write_video(
    path: Path,
    fmt: str,
    codec: str,
    seconds: float,
    width: int,
    height: int,
    fps: int,
    options: dict[str, str],
    container_options: dict[str, str],
) -> None:
    with av.open(str(path), "w", format=fmt, options=container_options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = options
        for index, image in enumerate(_frames(seconds, width, height, fps)):
            frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


_X264 = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline"}


@lru_cache(maxsize=8)
def mp4(seconds: float = 1.0, width: int = 64, height: int = 48, fps: int = 16) -> bytes:
    """H.264 (yuv420p, baseline) in MP4 with the ``moov`` atom first, playable by Chromium."""
    return _video("mp4", "libx264", seconds, width, height, fps, _X264, {"movflags": "+faststart"})


@lru_cache(maxsize=8)
def mov(seconds: float = 1.0, width: int = 64, height: int = 48, fps: int = 16) -> bytes:
    """H.264 in a QuickTime ``.mov`` container (what iPhones upload)."""
    return _video("mov", "libx264", seconds, width, height, fps, _X264, {"movflags": "+faststart"})


@lru_cache(maxsize=8)
def webm(seconds: float = 1.0, width: int = 64, height: int = 48, fps: int = 16, codec: str = "vp9") -> bytes:
    """VP9 (``codec="vp9"``) or VP8 (``codec="vp8"``) in WebM."""
    encoder = {"vp9": "libvpx-vp9", "vp8": "libvpx"}[codec]
    options = {"deadline": "realtime", "cpu-used": "8", "b": "200k"}
    return _video("webm", encoder, seconds, width, height, fps, options)


@cache
def mp4_with_location(rotation: int = 90) -> bytes:
    """``mp4()`` as a phone would record it: a place in its metadata (©xyz) and a rotation matrix."""
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.mp4", Path(folder) / "out.mp4"
        source.write_bytes(mp4())
        with av.open(str(source)) as inp, av.open(str(target), "w", format="mp4") as out:
            out.metadata["location"] = "+48.8582+002.2945/"
            out.metadata["title"] = "At home"
            stream = out.add_stream_from_template(inp.streams.video[0])
            stream.set_display_rotation(rotation)
            for packet in inp.demux(inp.streams.video[0]):
                if packet.dts is None:
                    continue
                packet.stream = stream
                out.mux(packet)
        return target.read_bytes()


@cache
def webm_holding_h264() -> bytes:
    """H.264 in Matroska, labelled WebM: FFmpeg reads it and decodes its frames, but WebM may not
    hold H.264, so it cannot be copied into a clean WebM."""
    with tempfile.TemporaryDirectory(prefix="media-sample-") as folder:
        path = Path(folder) / "sample.mkv"
        _write_video(path, "matroska", "libx264", 1.0, 64, 48, 16, _X264, {})
        data = path.read_bytes()
    # The EBML header names the document type; "webm" padded with NULs keeps every size as it was.
    doc_type = b"\x42\x82\x88matroska"
    assert doc_type in data[:64]
    return data.replace(doc_type, b"\x42\x82\x88webm\0\0\0\0", 1)
