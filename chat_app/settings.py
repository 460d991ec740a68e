"""Typed settings, read from the environment once and checked as they are read.

Names follow the conventions operators already use (LiteLLM's and Replicate's own
variables), so an existing environment works unchanged. A value the app cannot use stops
start-up with one sentence naming the variable, never a silent default. No reflex import here.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'chat_app.db'}"
GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
SMTP_SECURITIES = ("starttls", "ssl", "none")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class SettingsError(ValueError):
    """A variable holds a value the app cannot use; the message names it and says what it needs."""


@dataclass(frozen=True)
class Expected:
    """What a variable must hold, said in the sentence that stops start-up when it does not."""

    what: str
    secret: bool = False  # the sentence does not repeat the value (it may carry a password)


# The kinds of value a variable holds, each with what it must be.
_POSITIVE = Field(gt=0, allow_inf_nan=False)
Seconds = Annotated[float, _POSITIVE, Expected("a positive number of seconds")]
Days = Annotated[float, _POSITIVE, Expected("a positive number of days")]
Megabytes = Annotated[float, _POSITIVE, Expected("a positive number of megabytes")]
Megapixels = Annotated[float, _POSITIVE, Expected("a positive number of megapixels")]
Kilobytes = Annotated[int, Field(gt=0), Expected("a positive whole number of kilobytes")]
Characters = Annotated[int, Field(gt=0), Expected("a positive whole number of characters")]
WorkerCount = Annotated[int, Field(gt=0), Expected("a positive whole number of worker processes")]
FileCount = Annotated[int, Field(gt=0), Expected("a positive whole number of files")]
FrameCount = Annotated[int, Field(gt=0), Expected("a positive whole number of frames")]
Port = Annotated[int, Field(ge=1, le=65535), Expected("a port number from 1 to 65535")]
SmtpSecurity = Annotated[str, Expected("one of starttls, ssl or none")]
GcThreshold = Annotated[
    tuple[int, int, int],
    NoDecode,
    Expected("three whole numbers separated by commas, such as 50000,20,10 (Python's gc.set_threshold)"),
]
LogFormat = Annotated[str, Expected("text or json")]
LogLevel = Annotated[str, Expected("one of debug, info, warning or error")]
PublicUrl = Annotated[str, Expected("the address people open, starting with http:// or https://")]
DatabaseUrl = Annotated[
    str, Expected("a database URL such as postgresql+psycopg://user:password@host:5432/chat_app", secret=True)
]
RedisUrl = Annotated[str, Expected("a Redis URL such as redis://host:6379/0", secret=True)]
# Accounts and sign-in.
Attempts = Annotated[int, Field(gt=0), Expected("a positive whole number")]
Networks = Annotated[
    tuple[str, ...],
    NoDecode,
    Expected("a comma-separated list of IP addresses or networks such as 10.0.0.0/8"),
]
# Budgets: 0 turns a limit off.
LimitCount = Annotated[int, Field(ge=0), Expected("a whole number, 0 for no limit")]
Dollars = Annotated[float, Field(ge=0, allow_inf_nan=False), Expected("an amount in dollars, 0 for no limit")]
RegistrationRule = Annotated[
    str, Expected("open, closed, or the email domains that may register, separated by commas")
]


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


class Settings(BaseSettings):
    """Every variable the app reads, by its environment name, but the providers' keys and
    endpoints (see provider_variable); values derived from them are properties."""

    # Names are matched exactly, and blank counts as unset (REDIS_URL="" falls through to
    # REFLEX_REDIS_URL), as they always were.
    model_config = SettingsConfigDict(frozen=True, case_sensitive=True, env_ignore_empty=True, extra="ignore")

    database_url: DatabaseUrl = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL", repr=False)
    public_url: PublicUrl = Field("http://localhost:3000", validation_alias="PUBLIC_URL")
    # Unset: PUBLIC_URL alone, or for a local one its three names (public_url is declared first,
    # so its value is there to use).
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias="ALLOWED_ORIGINS", validate_default=True
    )
    session_days: Days = Field(30.0, validation_alias="SESSION_DAYS")
    # Unset: a per-install secret kept on local disk.
    secret_key: str = Field("", validation_alias="SECRET_KEY", repr=False, validate_default=True)
    # Deadlines applied to every model stream, whatever the provider does.
    first_token_timeout: Seconds = Field(60.0, validation_alias="LLM_FIRST_TOKEN_TIMEOUT")
    chunk_gap_timeout: Seconds = Field(30.0, validation_alias="LLM_CHUNK_GAP_TIMEOUT")
    total_timeout: Seconds = Field(600.0, validation_alias="LLM_TOTAL_TIMEOUT")
    max_message_chars: Characters = Field(32000, validation_alias="MAX_MESSAGE_CHARS")
    # The path of the operator's own catalog file, or "".
    operator_catalog: str = Field("", validation_alias="MODEL_CATALOG_FILE")
    # Who writes a new chat's title from its first exchange: a catalog model's id, "off" (the
    # first words stay), or unset: the cheapest text model the chat's payer can use.
    title_model: str = Field("", validation_alias="TITLE_MODEL")
    # Who sums up a chat's earlier messages once they no longer fit a model's window, so that a
    # reply still hears of them: "off" (they are left out), a catalog model's id, or "cheapest":
    # the cheapest text model the chat's payer can use. Each summary is a paid call.
    summary_model: str = Field("off", validation_alias="SUMMARY_MODEL")
    # The model a new person's chats start with (a catalog id); unset, or unusable now: the
    # cheapest usable text model that sees images.
    default_model: str = Field("", validation_alias="DEFAULT_MODEL")
    # Media: where files live and what an upload may be.
    media_dir: str = Field(str(PROJECT_ROOT / "data" / "media"), validation_alias="MEDIA_DIR")
    # An S3-compatible object store for media instead of MEDIA_DIR (which then only stages uploads).
    # Keys unset: boto3's own chain (AWS_* variables, an instance role). Signed seconds > 0: a
    # file's route, once access is checked, redirects to a link to the store valid that long.
    s3_bucket: str = Field("", validation_alias="S3_BUCKET")
    s3_endpoint_url: str = Field("", validation_alias="S3_ENDPOINT_URL")  # unset: AWS itself
    s3_region: str = Field("us-east-1", validation_alias="S3_REGION")
    s3_access_key_id: str = Field("", validation_alias="S3_ACCESS_KEY_ID")
    s3_secret_access_key: str = Field("", validation_alias="S3_SECRET_ACCESS_KEY", repr=False)
    s3_key_prefix: str = Field("", validation_alias="S3_KEY_PREFIX")
    s3_signed_url_seconds: Annotated[int, Field(ge=0, le=604800), Expected("0 to 604800 seconds")] = Field(
        0, validation_alias="S3_SIGNED_URL_SECONDS"
    )
    max_image_mb: Megabytes = Field(20.0, validation_alias="MAX_IMAGE_MB")
    max_video_mb: Megabytes = Field(200.0, validation_alias="MAX_VIDEO_MB")
    max_image_megapixels: Megapixels = Field(50.0, validation_alias="MAX_IMAGE_MEGAPIXELS")
    # Uploads: what an animation, one upload request and one person's storage may hold.
    max_animation_megapixels: Megapixels = Field(100.0, validation_alias="MAX_ANIMATION_MEGAPIXELS")
    max_animation_frames: FrameCount = Field(1000, validation_alias="MAX_ANIMATION_FRAMES")
    max_upload_files: FileCount = Field(10, validation_alias="MAX_UPLOAD_FILES")
    max_upload_mb: Megabytes = Field(500.0, validation_alias="MAX_UPLOAD_MB")
    storage_quota_mb: Megabytes = Field(1024.0, validation_alias="STORAGE_QUOTA_MB")
    # Seconds an image/video generation may take before it is cancelled, and between two looks.
    generation_timeout: Seconds = Field(900.0, validation_alias="GENERATION_TIMEOUT")
    generation_poll_interval: Seconds = Field(1.0, validation_alias="GENERATION_POLL_INTERVAL")
    # Redis, when set, carries the live channel, stop requests and worker liveness across
    # processes and machines (and Reflex keeps each tab's state there); "" means one process.
    redis_url: RedisUrl = Field(
        "", validation_alias=AliasChoices("REDIS_URL", "REFLEX_REDIS_URL"), repr=False
    )
    # The app's own log: readable lines, or JSON lines for a collector (chat_app/logs.py).
    log_format: LogFormat = Field("text", validation_alias="LOG_FORMAT")
    log_level: LogLevel = Field("info", validation_alias="LOG_LEVEL")
    # The bearer token Prometheus presents to GET /metrics; unset, the route does not exist.
    metrics_token: str = Field("", validation_alias="METRICS_TOKEN", repr=False)
    # Namespaces our keys, so several installs can share one Redis.
    redis_prefix: str = Field("chat_app", validation_alias="REDIS_KEY_PREFIX")
    # Granian reads it to start workers; the app, to warn when they have no Redis to share.
    granian_workers: WorkerCount = Field(1, validation_alias="GRANIAN_WORKERS")
    # The garbage collector's thresholds in a server process (chat_app/collector.py); the name is
    # the one LiteLLM's proxy reads for the same purpose.
    gc_threshold: GcThreshold = Field((50_000, 20, 10), validation_alias="PYTHON_GC_THRESHOLD")
    google_client_id: str = Field("", validation_alias="GOOGLE_CLIENT_ID")
    google_client_secret: str = Field("", validation_alias="GOOGLE_CLIENT_SECRET", repr=False)
    google_discovery_url: str = Field(GOOGLE_DISCOVERY_URL, validation_alias="GOOGLE_DISCOVERY_URL")
    oidc_client_id: str = Field("", validation_alias="OIDC_CLIENT_ID")
    oidc_client_secret: str = Field("", validation_alias="OIDC_CLIENT_SECRET", repr=False)
    oidc_discovery_url: str = Field("", validation_alias="OIDC_DISCOVERY_URL")
    oidc_label: str = Field("Single sign-on", validation_alias="OIDC_LABEL")
    # Unset SMTP_HOST: no email goes out (invitation links are shown to copy).
    smtp_host: str = Field("", validation_alias="SMTP_HOST")
    smtp_port: Port = Field(587, validation_alias="SMTP_PORT")
    smtp_username: str = Field("", validation_alias="SMTP_USERNAME")
    smtp_password: str = Field("", validation_alias="SMTP_PASSWORD", repr=False)
    smtp_from: str = Field("", validation_alias="SMTP_FROM")  # unset: Chat App <no-reply@SMTP_HOST>
    smtp_security: SmtpSecurity = Field("", validation_alias="SMTP_SECURITY")  # unset: by the port
    # Accounts and sign-in. Limits per client address are high enough that an office behind one
    # address never meets them in normal use; per email address they are fixed (services/sign_in_limits).
    sign_in_failures_per_ip: Attempts = Field(100, validation_alias="SIGN_IN_FAILURES_PER_IP")  # per 15 min
    registrations_per_ip: Attempts = Field(100, validation_alias="REGISTRATIONS_PER_IP")  # per hour
    # Registrations refused because the address has an account: low, so addresses cannot be
    # checked one after another (a free address signs in at once, which no answer can hide).
    taken_address_registrations_per_ip: Attempts = Field(
        10, validation_alias="TAKEN_ADDRESS_REGISTRATIONS_PER_IP"
    )  # per hour
    confirmation_emails_per_ip: Attempts = Field(
        50, validation_alias="CONFIRMATION_EMAILS_PER_IP"
    )  # per hour
    # The reverse proxies in front of the app: only their X-Forwarded-For is believed. Unset: none.
    trusted_proxies: Networks = Field((), validation_alias="TRUSTED_PROXIES")
    # A session unused this long ends, whatever its age (SESSION_DAYS is the most any lasts).
    session_idle_days: Days = Field(14.0, validation_alias="SESSION_IDLE_DAYS")
    # Budgets and the operator role. Per person, checked before any provider is called; an
    # administrator changes them per person, and registration, on the admin page.
    replies_in_flight_per_person: LimitCount = Field(3, validation_alias="REPLIES_IN_FLIGHT_PER_PERSON")
    requests_per_minute_per_person: LimitCount = Field(30, validation_alias="REQUESTS_PER_MINUTE_PER_PERSON")
    # Dollars a month spent on keys the person does not own (administrators: no limit unless set).
    monthly_spend_per_person: Dollars = Field(10.0, validation_alias="MONTHLY_SPEND_PER_PERSON")
    # Addresses that are administrators once confirmed; unset: the first account is.
    admin_emails: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="ADMIN_EMAILS")
    # Until an administrator sets it on the admin page.
    registration: RegistrationRule = Field("open", validation_alias="REGISTRATION")

    # Request hygiene: the largest body the server reads whole (a JSON body, a sign-in form);
    # uploads have their own limits. The default leaves room for a message of MAX_MESSAGE_CHARS
    # characters however a client escapes it (up to 12 bytes a character, "\ud83d\ude00").
    max_body_kb: Kilobytes = Field(512, validation_alias="MAX_BODY_KB")
    # The largest file of conversations one import reads (ChatGPT's export of years of chats).
    max_import_mb: Megabytes = Field(200.0, validation_alias="MAX_IMPORT_MB")

    # Sharing and outbound fetches. Invitation emails a person may send a day, and that one address
    # may receive a day (from everyone together): the mail server is the operator's.
    invite_emails_per_day: Annotated[int, Field(gt=0), Expected("a positive whole number of emails")] = Field(
        50, validation_alias="INVITE_EMAILS_PER_DAY"
    )
    invite_emails_per_recipient_per_day: Annotated[
        int, Field(gt=0), Expected("a positive whole number of emails")
    ] = Field(5, validation_alias="INVITE_EMAILS_PER_RECIPIENT_PER_DAY")
    # Whether addresses a provider hands back (a generation's output) may lead into private,
    # loopback or link-local networks. Off: only for a provider that really runs on such a network.
    outbound_private_addresses_allowed: Annotated[bool, Expected("true or false")] = Field(
        False, validation_alias="OUTBOUND_PRIVATE_ADDRESSES_ALLOWED"
    )

    @model_validator(mode="before")
    @classmethod
    def _strip(cls, data: Any) -> Any:
        """Surrounding spaces are dropped and a blank value counts as unset."""
        if not isinstance(data, dict):
            return data
        stripped = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return {k: v for k, v in stripped.items() if v != ""}

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")

    @field_validator("allowed_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        return tuple(o.strip() for o in value.split(",") if o.strip()) if isinstance(value, str) else value

    @field_validator("allowed_origins")
    @classmethod
    def _origins_default(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        public_url = info.data.get("public_url")  # absent when PUBLIC_URL itself was refused
        return value or (_with_loopback_names(public_url) if public_url else ())

    @field_validator("gc_threshold", mode="before")
    @classmethod
    def _three_whole_numbers(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError("not three whole numbers")
        return tuple(int(p) for p in parts)

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: str) -> str:
        return value or _dev_secret()

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(str(ipaddress.ip_network(v, strict=False)) for v in value)
        except ValueError:
            raise ValueError("not an IP address or network") from None

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(REDIS_SCHEMES):
            raise ValueError("not a Redis URL")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.lower() not in ("text", "json"):
            raise ValueError("not a known format")
        return value.lower()

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in ("debug", "info", "warning", "error"):
            raise ValueError("not a known level")
        return value.lower()

    @field_validator("smtp_security")
    @classmethod
    def _smtp_security(cls, value: str) -> str:
        if value and value.lower() not in SMTP_SECURITIES:
            raise ValueError("not a known security")
        return value.lower()

    @field_validator("admin_emails", mode="before")
    @classmethod
    def _split_emails(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(e.strip().lower() for e in value.split(",") if e.strip())
        return value

    @field_validator("registration")
    @classmethod
    def _registration(cls, value: str) -> str:
        return registration_rule(value)

    @property
    def cookie_name(self) -> str:
        """On https the `__Host-` prefix: browsers then keep the cookie only if it is Secure, for
        Path=/ and without Domain, so a sibling subdomain can neither set nor shadow it."""
        return "__Host-chat_session" if self.cookie_secure else "chat_session"

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_kb * 1024

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(v) for v in self.trusted_proxies)

    @property
    def max_image_bytes(self) -> int:
        return int(self.max_image_mb * 1024 * 1024)

    @property
    def max_video_bytes(self) -> int:
        return int(self.max_video_mb * 1024 * 1024)

    @property
    def max_image_pixels(self) -> int:
        """Bounds decoding work and memory (decompression bombs)."""
        return int(self.max_image_megapixels * 1_000_000)

    @property
    def max_animation_pixels(self) -> int:
        """Every frame of an animation counted: what a viewer decodes to play it once."""
        return int(self.max_animation_megapixels * 1_000_000)

    @property
    def max_upload_bytes(self) -> int:
        """What one upload request may carry, all its files together."""
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def storage_quota_bytes(self) -> int:
        """What one person's files may take in storage, sent or waiting to be sent."""
        return int(self.storage_quota_mb * 1024 * 1024)

    @property
    def oidc_providers(self) -> tuple[OidcProvider, ...]:
        """Google when both its id and secret are set; any OIDC provider when its id and discovery URL are."""
        providers = []
        if self.google_client_id and self.google_client_secret:
            providers.append(
                OidcProvider(
                    name="google",
                    label="Google",
                    client_id=self.google_client_id,
                    client_secret=self.google_client_secret,
                    discovery_url=self.google_discovery_url,
                )
            )
        if self.oidc_client_id and self.oidc_discovery_url:
            providers.append(
                OidcProvider(
                    name="oidc",
                    label=self.oidc_label,
                    client_id=self.oidc_client_id,
                    client_secret=self.oidc_client_secret,
                    discovery_url=self.oidc_discovery_url,
                )
            )
        return tuple(providers)

    @property
    def smtp(self) -> SmtpSettings | None:
        """None: no email goes out (invitation links are shown to copy)."""
        if not self.smtp_host:
            return None
        return SmtpSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            username=self.smtp_username,
            password=self.smtp_password,
            sender=self.smtp_from or f"Chat App <no-reply@{self.smtp_host}>",
            security=self.smtp_security or {587: "starttls", 465: "ssl"}.get(self.smtp_port, "none"),
        )


def registration_rule(value: str) -> str:
    """ "open", "closed", or email domains ("example.com,example.org"), written one way; ValueError else."""
    value = value.strip().lower()
    if value in ("open", "closed"):
        return value
    domains = list(dict.fromkeys(d.strip().lstrip("@") for d in value.split(",") if d.strip()))
    if not domains or not all(_DOMAIN.fullmatch(d) for d in domains):
        raise ValueError("not open, closed or a list of domains")
    return ",".join(domains)


def provider_variable(name: str) -> str:
    """A provider's key or endpoint by its variable's name ("" when unset).

    Read when asked for rather than once: an operator's catalog names key variables of its
    own (`key_env`), so which names matter is only known from the catalog.
    """
    return os.environ.get(name, "").strip()


def _dev_secret() -> str:
    """A per-install secret kept on local disk when SECRET_KEY is not set."""
    path = PROJECT_ROOT / "data" / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _field_named(variable: str) -> FieldInfo | None:
    """The field an environment variable fills (errors carry the variable's name)."""
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names = alias.choices if isinstance(alias, AliasChoices) else [alias]
        if variable in names:
            return field
    return None


def _variable_set(variable: str, field: FieldInfo | None) -> str:
    """Of a field's names (REDIS_URL or REFLEX_REDIS_URL), the one the operator set."""
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, AliasChoices):
        return next((str(n) for n in alias.choices if os.environ.get(str(n), "").strip()), variable)
    return variable


def _sentence(error: ErrorDetails) -> str:
    variable = str(error["loc"][0]) if error["loc"] else "A setting"
    field = _field_named(variable)
    name = _variable_set(variable, field)
    expected = next((m for m in field.metadata if isinstance(m, Expected)), None) if field else None
    if expected is None:
        return f"{name} is not valid: {error['msg']}."
    got = "" if expected.secret else f", got {error['input']!r}"
    return f"{name} must be {expected.what}{got}."


def load_settings() -> Settings:
    """The settings from the environment; SettingsError names each variable that holds a bad value."""
    try:
        return Settings()  # pyright: ignore[reportCallIssue]  (every field is read from the environment)
    except ValidationError as exc:
        raise SettingsError(" ".join(_sentence(error) for error in exc.errors())) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def settings_or_exit() -> Settings:
    """For entry points: the settings, or the process stops with the sentence (not a traceback)."""
    try:
        return get_settings()
    except SettingsError as exc:
        sys.exit(str(exc))


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def _with_loopback_names(url: str) -> tuple[str, ...]:
    """A local address under each of the names a browser may be given for it: the app started
    on this machine answers a page opened at 127.0.0.1 or [::1] as at localhost."""
    parts = urlsplit(url)
    if parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return (url,)
    port = f":{parts.port}" if parts.port else ""
    return tuple(f"{parts.scheme}://{host}{port}" for host in LOOPBACK_NAMES)
