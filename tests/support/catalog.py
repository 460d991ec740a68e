"""What the shipped model catalog tells the fakes."""

from __future__ import annotations

from chat_app.catalog import shipped


def catalog_versions() -> dict[str, str]:
    """Version id -> owner/name for the catalog's version-pinned Replicate models."""
    _, models = shipped()
    pinned = [m.replicate_model for m in models if m.replicate_model and ":" in m.replicate_model]
    return {ref.split(":", 1)[1]: ref.split(":", 1)[0] for ref in pinned}
