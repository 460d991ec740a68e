"""The versioned model catalog shipped with the app, and its loader."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    provider: str
    litellm_model: str
    type: str = "text"


@lru_cache(maxsize=1)
def text_models() -> tuple[CatalogModel, ...]:
    data = json.loads((CATALOG_DIR / "text_models.json").read_text())
    return tuple(CatalogModel(**entry) for entry in data["models"])


def find_model(model_id: str | None) -> CatalogModel | None:
    return next((m for m in text_models() if m.id == model_id), None)
