"""The composer's file picker offers exactly the files the server accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from reflex_base.vars.base import LiteralVar

from chat_app.components.composer import attach_button
from chat_app.services import media
from chat_app.services.storage import LocalDiskStorage
from chat_app.services.views import FILE_PICKER_ACCEPT
from tests.fakes import media_samples as samples

# A real file of every type the server takes.
SAMPLES = {
    "image/jpeg": samples.jpeg,
    "image/png": samples.png,
    "image/webp": samples.webp,
    "image/gif": samples.gif,
    "video/mp4": samples.mp4,
    "video/quicktime": samples.mov,
    "video/webm": samples.webm,
}
LIMITS = media.Limits(image_bytes=2 * 1024 * 1024, video_bytes=4 * 1024 * 1024, image_pixels=25_000_000)


def test_the_picker_in_the_page_offers_the_shared_list():
    """What the browser's file dialog is told to accept (react-dropzone's `accept`)."""
    drop_zone = attach_button().children[0]
    hooks = [h for v in drop_zone.special_props for h in v._get_all_var_data().hooks]
    dropzone = next(h for h in hooks if "useDropzone(" in h)
    assert f'["accept"] : {LiteralVar.create(FILE_PICKER_ACCEPT)!s}' in dropzone


def test_every_type_the_server_accepts_is_offered(tmp_path):
    for mime, make in SAMPLES.items():
        stored = _upload(make(), f"sample.{media.ACCEPTED[mime].extension}", mime, tmp_path)
        assert stored.mime_type == mime  # the server takes this sample as this type
    assert set(FILE_PICKER_ACCEPT) == set(SAMPLES) == set(media.ACCEPTED)


@pytest.mark.parametrize(
    ("mime", "extension"), [(m, e) for m, offered in FILE_PICKER_ACCEPT.items() for e in offered]
)
def test_every_file_offered_is_accepted_by_the_server(tmp_path, mime, extension):
    assert extension.startswith(".")
    stored = _upload(SAMPLES[mime](), f"holiday{extension}", mime, tmp_path)
    assert (stored.mime_type, stored.original_name) == (mime, f"holiday{extension}")


def _upload(data: bytes, name: str, declared: str, folder: Path) -> media.Stored:
    intake = media.Intake(name, declared, limits=LIMITS, storage=LocalDiskStorage(folder / "media"))
    intake.write(data)
    return intake.finish()
