"""Typed settings, read from the environment once.

Names follow the conventions operators already use (LiteLLM's and Replicate's own
variables), so an existing environment works unchanged. No reflex import here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


@dataclass(frozen=True)
class OidcProvider:
    """One OpenID Connect provider the sign-in page offers."""

    name: str  # url-safe slug used in routes
    label: str  # shown on the button
    client_id: str
    client_secret: str
    discovery_url: str


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: str
    sender: str
    security: str  # starttls | ssl | none


def _smtp() -> SmtpSettings | None:
    host = _env("SMTP_HOST")
    if not host:
        return None
    port = int(_env_float("SMTP_PORT", 587))
    default_security = {587: "starttls", 465: "ssl"}.get(port, "none")
    return SmtpSettings(
        host=host,
        port=port,
        username=_env("SMTP_USERNAME"),
        password=_env("SMTP_PASSWORD"),
        sender=_env("SMTP_FROM", f"Chat App <no-reply@{host}>"),
        security=_env("SMTP_SECURITY", default_security).lower(),
    )


@dataclass(frozen=True)
class Settings:
    database_url: str
    public_url: str
    allowed_origins: tuple[str, ...]
    session_days: float
    cookie_secure: bool
    secret_key: str
    # Deadlines applied to every model stream, whatever the provider does.
    first_token_timeout: float
    chunk_gap_timeout: float
    total_timeout: float
    max_message_chars: int
    operator_catalog: str  # path of the operator's own catalog file, or ""
    # Media: where files live and what an upload may be.
    media_dir: str
    max_image_bytes: int
    max_video_bytes: int
    max_image_pixels: int  # bounds decoding work and memory (decompression bombs)
    generation_timeout: float  # seconds an image/video generation may take before it is cancelled
    generation_poll_interval: float
    # Redis, when set, carries the live channel, stop requests and worker liveness across
    # processes and machines (and Reflex keeps each tab's state there); "" means one process.
    redis_url: str = ""
    redis_prefix: str = "chat_app"  # namespaces our keys, so several installs can share one Redis
    oidc_providers: tuple[OidcProvider, ...] = field(default_factory=tuple)
    smtp: SmtpSettings | None = None  # None: no email goes out (invitation links are shown to copy)

    @property
    def cookie_name(self) -> str:
        return "chat_session"


def _oidc_providers() -> tuple[OidcProvider, ...]:
    providers = []
    if _env("GOOGLE_CLIENT_ID") and _env("GOOGLE_CLIENT_SECRET"):
        providers.append(
            OidcProvider(
                name="google",
                label="Google",
                client_id=_env("GOOGLE_CLIENT_ID"),
                client_secret=_env("GOOGLE_CLIENT_SECRET"),
                discovery_url=_env(
                    "GOOGLE_DISCOVERY_URL",
                    "https://accounts.google.com/.well-known/openid-configuration",
                ),
            )
        )
    if _env("OIDC_CLIENT_ID") and _env("OIDC_DISCOVERY_URL"):
        providers.append(
            OidcProvider(
                name="oidc",
                label=_env("OIDC_LABEL", "Single sign-on"),
                client_id=_env("OIDC_CLIENT_ID"),
                client_secret=_env("OIDC_CLIENT_SECRET"),
                discovery_url=_env("OIDC_DISCOVERY_URL"),
            )
        )
    return tuple(providers)


def load_settings() -> Settings:
    default_db = f"sqlite:///{PROJECT_ROOT / 'data' / 'chat_app.db'}"
    public_url = _env("PUBLIC_URL", "http://localhost:3000").rstrip("/")
    origins = _env("ALLOWED_ORIGINS")
    return Settings(
        database_url=_env("DATABASE_URL", default_db),
        public_url=public_url,
        allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()) or (public_url,),
        session_days=_env_float("SESSION_DAYS", 30.0),
        cookie_secure=public_url.startswith("https://"),
        secret_key=_env("SECRET_KEY") or _dev_secret(),
        first_token_timeout=_env_float("LLM_FIRST_TOKEN_TIMEOUT", 60.0),
        chunk_gap_timeout=_env_float("LLM_CHUNK_GAP_TIMEOUT", 30.0),
        total_timeout=_env_float("LLM_TOTAL_TIMEOUT", 600.0),
        max_message_chars=int(_env_float("MAX_MESSAGE_CHARS", 32000)),
        operator_catalog=_env("MODEL_CATALOG_FILE"),
        media_dir=_env("MEDIA_DIR", str(PROJECT_ROOT / "data" / "media")),
        max_image_bytes=int(_env_float("MAX_IMAGE_MB", 20) * 1024 * 1024),
        max_video_bytes=int(_env_float("MAX_VIDEO_MB", 200) * 1024 * 1024),
        max_image_pixels=int(_env_float("MAX_IMAGE_MEGAPIXELS", 50) * 1_000_000),
        generation_timeout=_env_float("GENERATION_TIMEOUT", 900.0),
        generation_poll_interval=_env_float("GENERATION_POLL_INTERVAL", 1.0),
        redis_url=_env("REDIS_URL") or _env("REFLEX_REDIS_URL"),
        redis_prefix=_env("REDIS_KEY_PREFIX", "chat_app"),
        oidc_providers=_oidc_providers(),
        smtp=_smtp(),
    )


def _dev_secret() -> str:
    """A per-install secret kept on local disk when SECRET_KEY is not set."""
    path = PROJECT_ROOT / "data" / "secret_key"
    if path.exists():
        return path.read_text().strip()
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
