"""An animation's shape as its headers declare it, read before any frame is decoded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outline:
    frames: int  # counted only up to just past the bound: a file of a million frames stops early
    width: int  # the canvas, or the furthest any frame reaches out of it
    height: int

    @property
    def pixels(self) -> int:
        """What playing it once decodes."""
        return self.frames * self.width * self.height
