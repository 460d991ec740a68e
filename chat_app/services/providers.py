"""Text providers: which environment configures each, and whether a model can be used now."""

from __future__ import annotations

import os
from dataclasses import dataclass

from chat_app.catalog import CatalogModel, find_model, text_models


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    key_env: str | None  # None: the provider needs no key (a local server)
    base_env: str


# LiteLLM's own variable names, so operators' existing environments work unchanged.
PROVIDERS: dict[str, Provider] = {
    "anthropic": Provider("anthropic", "Anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_API_BASE"),
    "gemini": Provider("gemini", "Google Gemini", "GEMINI_API_KEY", "GEMINI_API_BASE"),
    "openai": Provider("openai", "OpenAI", "OPENAI_API_KEY", "OPENAI_API_BASE"),
    "deepseek": Provider("deepseek", "DeepSeek", "DEEPSEEK_API_KEY", "DEEPSEEK_API_BASE"),
    "ollama": Provider("ollama", "Ollama", None, "OLLAMA_API_BASE"),
}


@dataclass(frozen=True)
class ModelChoice:
    id: str
    name: str
    provider: str
    available: bool
    unavailable_reason: str


def unavailable_reason(model: CatalogModel) -> str:
    """Empty when the model can be called now, else a sentence saying why not."""
    provider = PROVIDERS.get(model.provider)
    if provider is None:
        return f"Unknown provider {model.provider}."
    if provider.key_env and not os.environ.get(provider.key_env):
        return f"{provider.label} is not configured: the server has no {provider.key_env}."
    if provider.key_env is None and not os.environ.get(provider.base_env):
        return f"{provider.label} is not configured: the server has no {provider.base_env}."
    return ""


def model_choices() -> list[ModelChoice]:
    return [
        ModelChoice(m.id, m.name, m.provider, not (r := unavailable_reason(m)), r)
        for m in text_models()
    ]


def default_model_id() -> str:
    choices = model_choices()
    return next((c.id for c in choices if c.available), choices[0].id)


def resolve_model(model_id: str | None) -> CatalogModel | None:
    return find_model(model_id)


def call_options(model: CatalogModel) -> dict[str, str]:
    """api_key/api_base for LiteLLM, read per call so a changed environment takes effect."""
    provider = PROVIDERS[model.provider]
    options: dict[str, str] = {}
    if provider.key_env and os.environ.get(provider.key_env):
        options["api_key"] = os.environ[provider.key_env]
    if os.environ.get(provider.base_env):
        options["api_base"] = os.environ[provider.base_env]
    return options
