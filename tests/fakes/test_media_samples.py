"""Each media sample is what it claims to be, as Pillow and PyAV (FFmpeg) see it."""

from __future__ import annotations

import io
import struct
import zlib

import av
import pytest
from PIL import ExifTags, Image, ImageOps

from tests.fakes import media_samples


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_png_is_real_and_not_blank() -> None:
    image = _open(media_samples.png())
    assert image.format == "PNG" and image.size == (64, 48) and image.mode == "RGB"
    assert len(set(image.get_flattened_data())) > 50  # a pattern, not a flat colour
    assert _open(media_samples.png(10, 20)).size == (10, 20)
    assert media_samples.png(color=(1, 2, 3)) != media_samples.png()


@pytest.mark.parametrize(("name", "fmt"), [("jpeg", "JPEG"), ("webp", "WEBP")])
def test_still_images(name: str, fmt: str) -> None:
    image = _open(getattr(media_samples, name)())
    assert image.format == fmt and image.size == (64, 48)
    assert not image.getexif()


def test_gif_is_animated() -> None:
    image = _open(media_samples.gif(frames=3))
    assert image.format == "GIF" and image.is_animated and image.n_frames == 3
    assert _open(media_samples.gif()).n_frames == 2


def test_jpeg_with_exif_has_orientation_and_gps() -> None:
    data = media_samples.jpeg_with_exif()
    image = _open(data)
    assert image.format == "JPEG" and image.size == (80, 40)
    exif = image.getexif()
    assert exif[ExifTags.Base.Orientation] == 6
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert tuple(map(float, gps[ExifTags.GPS.GPSLatitude])) == (51.0, 30.0, 12.5)
    assert ExifTags.GPS.GPSLongitude in gps
    assert ImageOps.exif_transpose(image).size == (40, 80)


def test_jpeg_with_exif_options() -> None:
    image = _open(media_samples.jpeg_with_exif(orientation=1, gps=False))
    exif = image.getexif()
    assert exif[ExifTags.Base.Orientation] == 1
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)


def test_bomb_png_declares_huge_size_in_small_file() -> None:
    data = media_samples.bomb_png()
    assert len(data) < 1_000_000
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (30000, 30000)
    assert data.endswith(b"IEND\xaeB`\x82")
    # every chunk's CRC is right
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind_and_data = data[offset + 4 : offset + 8 + length]
        assert struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])[0] == zlib.crc32(
            kind_and_data
        )
        offset += 12 + length
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


def test_small_bomb_png_decodes_to_black() -> None:
    image = _open(media_samples.bomb_png(side=100))
    assert image.size == (100, 100) and image.mode == "1"
    assert image.getextrema() == (0, 0)


def test_truncated_jpeg_fails_to_load() -> None:
    data = media_samples.truncated_jpeg()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    with pytest.raises(OSError):
        image.load()


def test_documents() -> None:
    html = media_samples.html_page()
    assert html.lower().startswith(b"<!doctype html>") and b"<script>alert(1)</script>" in html
    svg = media_samples.svg()
    assert b"<svg" in svg and b"<script>" in svg and b'xmlns="http://www.w3.org/2000/svg"' in svg


@pytest.mark.parametrize(
    ("name", "codec", "format_name"),
    [("mp4", "h264", "mp4"), ("mov", "h264", "mov"), ("webm", "vp9", "webm")],
)
def test_videos_decode_with_moving_frames(name: str, codec: str, format_name: str) -> None:
    with av.open(io.BytesIO(getattr(media_samples, name)())) as container:
        assert format_name in container.format.name
        stream = container.streams.video[0]
        assert stream.codec_context.name == codec
        assert (stream.width, stream.height) == (64, 48)
        assert container.duration and container.duration > 0
        frames = [frame.to_image() for frame in container.decode(stream)]
    assert len(frames) == 16
    assert frames[0].getpixel((2, 2)) != frames[-1].getpixel((2, 2))


def test_mp4_is_browser_friendly() -> None:
    data = media_samples.mp4(seconds=0.5, width=32, height=32, fps=8)
    assert data[4:8] == b"ftyp"
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # faststart: playable while downloading
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (32, 32)
        assert sum(1 for _ in container.decode(stream)) == 4


def test_webm_vp8() -> None:
    with av.open(io.BytesIO(media_samples.webm(codec="vp8"))) as container:
        assert container.streams.video[0].codec_context.name == "vp8"


def test_samples_are_deterministic() -> None:
    assert media_samples.png.__wrapped__() == media_samples.png.__wrapped__()
    assert media_samples.bomb_png(64) == media_samples.bomb_png.__wrapped__(64)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("gif_with_metadata", "GIF"), ("animated_png", "PNG"), ("animated_webp", "WEBP")],
)
def test_animations_with_metadata_carry_it(name: str, fmt: str) -> None:
    data = getattr(media_samples, name)()
    image = _open(data)
    assert image.format == fmt and image.n_frames == 3 and image.size == (32, 24)
    assert media_samples.SECRET_PLACE in data and media_samples.SECRET_DEVICE in data
    assert {"comment", "exif", "xmp", "Location"} & set(image.info)


def test_gif_bomb_is_small_but_many_large_frames() -> None:
    data = media_samples.gif_bomb(frames=4, side=600)
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.size == (600, 600) and image.n_frames == 4
    assert len(data) < 20_000


def test_gif_of_many_frames_has_them_all() -> None:
    image = Image.open(io.BytesIO(media_samples.gif_of_many_frames(50)))
    assert image.size == (1, 1) and image.n_frames == 50


def test_noise_png_hardly_compresses() -> None:
    image = _open(media_samples.noise_png(100, 100))
    assert image.size == (100, 100) and len(media_samples.noise_png(100, 100)) > 100 * 100 * 3 * 0.95


def test_webm_holding_h264_reads_as_webm_but_holds_h264() -> None:
    data = media_samples.webm_holding_h264()
    assert b"webm" in data[:64]
    with av.open(io.BytesIO(data)) as container:
        assert container.format.name.startswith("matroska,webm")
        assert container.streams.video[0].codec_context.name == "h264"
        assert next(container.decode(video=0)).width == 64
