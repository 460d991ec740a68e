"""The versioned model catalog shipped with the app, an operator's own catalog file, and their loader."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

CATALOG_FILE = Path(__file__).resolve().parent / "models.json"
MODEL_TYPES = ("text", "image", "video")
CAPABILITIES = ("vision", "video_input", "image_output", "video_output", "tools", "reasoning", "streaming")


class CatalogError(ValueError):
    """A catalog file that cannot be used, with a sentence saying why."""


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    provider: str
    provider_name: str
    type: str = "text"
    litellm_model: str | None = None
    replicate_model: str | None = None
    capabilities: tuple[str, ...] = field(default_factory=tuple)
    context_window: int | None = None
    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    per_image: float | None = None
    per_second: float | None = None
    api_base: str | None = None
    key_env: str | None = None
    source: str = "catalog"
    enabled: bool = True


def _model(raw: dict, providers: dict[str, str], source: str, **overrides) -> CatalogModel:
    data = {**raw, **overrides}
    pricing = data.pop("pricing", None) or {}
    for key in ("id", "name", "provider", "type"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise CatalogError(f"A model in the catalog has no {key}: {raw!r}")
    if data["type"] not in MODEL_TYPES:
        raise CatalogError(f"Model {data['id']} has an unknown type {data['type']!r}.")
    unknown = set(data.get("capabilities", ())) - set(CAPABILITIES)
    if unknown:
        raise CatalogError(f"Model {data['id']} has unknown capabilities {sorted(unknown)}.")
    return CatalogModel(
        id=data["id"],
        name=data["name"],
        provider=data["provider"],
        provider_name=str(data.get("provider_name") or providers.get(data["provider"], data["provider"])),
        type=data["type"],
        litellm_model=data.get("litellm_model"),
        replicate_model=data.get("replicate_model"),
        capabilities=tuple(data.get("capabilities", ())),
        context_window=data.get("context_window"),
        input_per_mtok=pricing.get("input_per_mtok"),
        output_per_mtok=pricing.get("output_per_mtok"),
        per_image=pricing.get("per_image"),
        per_second=pricing.get("per_second"),
        api_base=data.get("api_base"),
        key_env=data.get("key_env"),
        source=source,
    )


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CatalogError(f"The catalog file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise CatalogError(f"The catalog file {path} needs a JSON object with an integer version.")
    return data


@lru_cache(maxsize=1)
def shipped() -> tuple[int, tuple[CatalogModel, ...]]:
    data = _read(CATALOG_FILE)
    providers = data.get("providers", {})
    return data["version"], tuple(_model(m, providers, "catalog") for m in data["models"])


def operator_models(path: Path, providers: dict[str, str]) -> tuple[int, list[CatalogModel], set[str]]:
    """An operator's file: extra models, custom OpenAI-compatible endpoints, disabled ids."""
    data = _read(path)
    found = [_model(m, providers, "operator") for m in data.get("models", [])]
    for endpoint in data.get("endpoints", []):
        slug, label = endpoint.get("id"), endpoint.get("name") or endpoint.get("id")
        if not slug or not endpoint.get("api_base"):
            raise CatalogError("Each endpoint in the operator catalog needs an id and an api_base.")
        for m in endpoint.get("models", []):
            found.append(
                _model(
                    {"type": "text", "capabilities": ["streaming"], **m},
                    providers,
                    "operator",
                    id=f"{slug}/{m.get('id')}",
                    provider=slug,
                    provider_name=label,
                    litellm_model=f"openai/{m.get('id')}",
                    api_base=endpoint["api_base"],
                    key_env=endpoint.get("key_env"),
                )
            )
    return data["version"], found, set(data.get("disabled", []))
