"""What one file, one upload request and one person may bring: the settings, read once per upload.

Both faces (the HTTP upload route and the attach button's streamed upload) judge by the same
`Limits`, so a limit is set in one place, the settings, and met the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chat_app.settings import get_settings


def _setting(name: str) -> Callable[[], Any]:
    return lambda: getattr(get_settings(), name)


@dataclass(frozen=True)
class Limits:
    """Any field left out is read from the settings."""

    image_bytes: int = field(default_factory=_setting("max_image_bytes"))
    video_bytes: int = field(default_factory=_setting("max_video_bytes"))
    image_pixels: int = field(default_factory=_setting("max_image_pixels"))
    animation_pixels: int = field(default_factory=_setting("max_animation_pixels"))
    animation_frames: int = field(default_factory=_setting("max_animation_frames"))
    files_per_upload: int = field(default_factory=_setting("max_upload_files"))
    upload_bytes: int = field(default_factory=_setting("max_upload_bytes"))
    quota_bytes: int = field(default_factory=_setting("storage_quota_bytes"))

    @classmethod
    def configured(cls) -> Limits:
        return cls()

    def bytes_for(self, kind: str) -> int:
        return self.image_bytes if kind == "image" else self.video_bytes


def megabytes(size: int) -> str:
    """Whole megabytes, or one decimal under ten (a quota of 0.5 MB is not "0 MB")."""
    mb = size / (1024 * 1024)
    return f"{mb:,.0f} MB" if mb >= 10 else f"{mb:.1f}".removesuffix(".0") + " MB"


def megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:,.0f} million pixels"


def past_quota(used: int, limits: Limits) -> str:
    """Why a file is refused when it would not fit in its owner's storage."""
    left = max(0, limits.quota_bytes - used)
    return (
        f"This would take you past your {megabytes(limits.quota_bytes)} of storage "
        f"({megabytes(left)} left). Delete chats you no longer need to make room."
    )


def past_upload_bytes(limits: Limits) -> str:
    """Why an upload request stops being read when it carries more than it may."""
    return f"These files together are more than the {megabytes(limits.upload_bytes)} one upload may carry."
