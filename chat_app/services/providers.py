"""Providers: which environment configures each, and whether a model can be called now."""

from __future__ import annotations

from dataclasses import dataclass

from chat_app.catalog import CatalogModel
from chat_app.settings import provider_variable


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    key_env: str | None  # None: the provider needs no key (a local server)
    base_env: str


# LiteLLM's and Replicate's own variable names, so operators' existing environments work unchanged.
PROVIDERS: dict[str, Provider] = {
    "anthropic": Provider("anthropic", "Anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_API_BASE"),
    "gemini": Provider("gemini", "Google Gemini", "GEMINI_API_KEY", "GEMINI_API_BASE"),
    "openai": Provider("openai", "OpenAI", "OPENAI_API_KEY", "OPENAI_API_BASE"),
    "deepseek": Provider("deepseek", "DeepSeek", "DEEPSEEK_API_KEY", "DEEPSEEK_API_BASE"),
    "ollama": Provider("ollama", "Ollama", None, "OLLAMA_API_BASE"),
    "replicate": Provider("replicate", "Replicate", "REPLICATE_API_TOKEN", "REPLICATE_BASE_URL"),
}


def provider_label(model: CatalogModel) -> str:
    known = PROVIDERS.get(model.provider)
    return known.label if known else model.provider_name


def _key_env(model: CatalogModel) -> str | None:
    if model.key_env:
        return model.key_env
    known = PROVIDERS.get(model.provider)
    return known.key_env if known else None


def configuration_gap(model: CatalogModel, *, own_key: bool = False) -> str:
    """Empty when this model can be called (with the server's key, or the person's own), else why not."""
    known = PROVIDERS.get(model.provider)
    label = provider_label(model)
    key_env = _key_env(model)
    if key_env and not provider_variable(key_env) and not own_key:
        hint = " You can add your own key in Settings." if known is not None and not model.key_env else ""
        return f"{label} is not configured: the server has no {key_env}.{hint}"
    if known is not None and known.key_env is None and not provider_variable(known.base_env):
        return f"{label} is not configured: the server has no {known.base_env}."
    if known is None and not model.api_base:
        return f"{label} has no endpoint configured."
    return ""


def call_options(model: CatalogModel, own_key: str | None = None) -> dict[str, str]:
    """api_key/api_base for LiteLLM, read per call (see settings.provider_variable).

    A person's own key, when given, is used instead of the server's.
    """
    options: dict[str, str] = {}
    key_env = _key_env(model)
    server_key = provider_variable(key_env) if key_env else ""
    if own_key or server_key:
        options["api_key"] = own_key or server_key
    known = PROVIDERS.get(model.provider)
    base = model.api_base or (provider_variable(known.base_env) if known else None)
    if base:
        options["api_base"] = base
    return options
