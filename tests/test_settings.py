"""Settings: every variable read once, its default when unset, and a bad value stops start-up
with one sentence naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import AliasChoices

from chat_app import settings
from chat_app.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def _variables() -> list[str]:
    names: list[str] = []
    for field in settings.Settings.model_fields.values():
        alias = field.validation_alias
        names += [str(n) for n in alias.choices] if isinstance(alias, AliasChoices) else [str(alias)]
    return names


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """None of the app's variables set; the per-install secret kept under tmp_path."""
    for name in _variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path)
    return monkeypatch


def test_every_variable_has_its_default_when_unset(clean_env, tmp_path):
    s = load_settings()
    assert s.database_url == settings.DEFAULT_DATABASE_URL
    assert s.public_url == "http://localhost:3000"
    # a page opened at 127.0.0.1 or [::1] is the same local app
    assert s.allowed_origins == ("http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000")
    assert s.cookie_secure is False
    assert s.cookie_name == "chat_session"
    assert s.session_days == 30.0
    assert (s.first_token_timeout, s.chunk_gap_timeout, s.total_timeout) == (60.0, 30.0, 600.0)
    assert s.max_message_chars == 32000
    assert s.operator_catalog == ""
    assert s.media_dir == str(ROOT / "data" / "media")
    assert (s.max_image_bytes, s.max_video_bytes) == (20 * 1024 * 1024, 200 * 1024 * 1024)
    assert s.max_image_pixels == 50_000_000
    assert (s.max_body_kb, s.max_body_bytes) == (512, 512 * 1024)
    assert (s.generation_timeout, s.generation_poll_interval) == (900.0, 1.0)
    assert (s.redis_url, s.redis_prefix, s.granian_workers) == ("", "chat_app", 1)
    assert s.oidc_providers == ()
    assert s.smtp is None
    assert (s.sign_in_failures_per_ip, s.registrations_per_ip, s.taken_address_registrations_per_ip) == (
        100,
        100,
        10,
    )
    assert (s.confirmation_emails_per_ip, s.trusted_proxies, s.session_idle_days) == (50, (), 14.0)
    # The secret is made once per install and kept.
    assert s.secret_key == (tmp_path / "data" / "secret_key").read_text()
    assert load_settings().secret_key == s.secret_key


def test_blank_counts_as_unset_and_spaces_are_dropped(clean_env):
    clean_env.setenv("LLM_TOTAL_TIMEOUT", "")
    clean_env.setenv("SESSION_DAYS", "  7 ")
    clean_env.setenv("REDIS_KEY_PREFIX", " ")
    clean_env.setenv("SECRET_KEY", " s3cret\n")
    s = load_settings()
    assert (s.total_timeout, s.session_days, s.redis_prefix, s.secret_key) == (
        600.0,
        7.0,
        "chat_app",
        "s3cret",
    )


@pytest.mark.parametrize(
    ("variable", "value", "sentence"),
    [
        ("LLM_TOTAL_TIMEOUT", "abc", "LLM_TOTAL_TIMEOUT must be a positive number of seconds, got 'abc'."),
        (
            "LLM_FIRST_TOKEN_TIMEOUT",
            "-5",
            "LLM_FIRST_TOKEN_TIMEOUT must be a positive number of seconds, got '-5'.",
        ),
        (
            "LLM_CHUNK_GAP_TIMEOUT",
            "0",
            "LLM_CHUNK_GAP_TIMEOUT must be a positive number of seconds, got '0'.",
        ),
        ("GENERATION_TIMEOUT", "nan", "GENERATION_TIMEOUT must be a positive number of seconds, got 'nan'."),
        (
            "GENERATION_POLL_INTERVAL",
            "1s",
            "GENERATION_POLL_INTERVAL must be a positive number of seconds, got '1s'.",
        ),
        ("SESSION_DAYS", "a month", "SESSION_DAYS must be a positive number of days, got 'a month'."),
        ("MAX_IMAGE_MB", "inf", "MAX_IMAGE_MB must be a positive number of megabytes, got 'inf'."),
        ("MAX_VIDEO_MB", "200MB", "MAX_VIDEO_MB must be a positive number of megabytes, got '200MB'."),
        (
            "MAX_IMAGE_MEGAPIXELS",
            "-1",
            "MAX_IMAGE_MEGAPIXELS must be a positive number of megapixels, got '-1'.",
        ),
        (
            "MAX_MESSAGE_CHARS",
            "1.5",
            "MAX_MESSAGE_CHARS must be a positive whole number of characters, got '1.5'.",
        ),
        ("MAX_BODY_KB", "64.5", "MAX_BODY_KB must be a positive whole number of kilobytes, got '64.5'."),
        (
            "GRANIAN_WORKERS",
            "two",
            "GRANIAN_WORKERS must be a positive whole number of worker processes, got 'two'.",
        ),
        ("SMTP_PORT", "99999", "SMTP_PORT must be a port number from 1 to 65535, got '99999'."),
        ("SIGN_IN_FAILURES_PER_IP", "0", "SIGN_IN_FAILURES_PER_IP must be a positive whole number, got '0'."),
        ("SESSION_IDLE_DAYS", "-1", "SESSION_IDLE_DAYS must be a positive number of days, got '-1'."),
        (
            "TRUSTED_PROXIES",
            "10.0.0.0/8,proxy",
            "TRUSTED_PROXIES must be a comma-separated list of IP addresses or networks such as "
            "10.0.0.0/8, got '10.0.0.0/8,proxy'.",
        ),
        ("SMTP_SECURITY", "tls", "SMTP_SECURITY must be one of starttls, ssl or none, got 'tls'."),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be text or json, got 'xml'."),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of debug, info, warning or error, got 'loud'."),
        (
            "PUBLIC_URL",
            "chat.example.com",
            "PUBLIC_URL must be the address people open, starting with http:// or https://, "
            "got 'chat.example.com'.",
        ),
        # URLs may carry a password: the sentence does not repeat them.
        (
            "DATABASE_URL",
            "user:hunter2@db",
            "DATABASE_URL must be a database URL such as postgresql+psycopg://user:password@host:5432/chat_app.",
        ),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a Redis URL such as redis://host:6379/0."),
        (
            "REFLEX_REDIS_URL",
            "localhost:6379",
            "REFLEX_REDIS_URL must be a Redis URL such as redis://host:6379/0.",
        ),
    ],
)
def test_a_bad_value_is_refused_with_a_sentence_naming_the_variable(clean_env, variable, value, sentence):
    clean_env.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value) == sentence


def test_each_bad_variable_is_named(clean_env):
    clean_env.setenv("LLM_TOTAL_TIMEOUT", "x")
    clean_env.setenv("SMTP_PORT", "y")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "LLM_TOTAL_TIMEOUT must be a positive number of seconds, got 'x'." in str(refused.value)
    assert "SMTP_PORT must be a port number from 1 to 65535, got 'y'." in str(refused.value)


def test_names_are_matched_exactly(clean_env):
    clean_env.setenv("llm_total_timeout", "abc")
    assert load_settings().total_timeout == 600.0


def test_redis_url_comes_from_redis_url_else_reflex_redis_url(clean_env):
    clean_env.setenv("REFLEX_REDIS_URL", "redis://reflex:6379/0")
    assert load_settings().redis_url == "redis://reflex:6379/0"
    clean_env.setenv("REDIS_URL", "")  # blank: still Reflex's
    assert load_settings().redis_url == "redis://reflex:6379/0"
    clean_env.setenv("REDIS_URL", "redis://ours:6379/1")
    assert load_settings().redis_url == "redis://ours:6379/1"


def test_values_derived_from_others(clean_env):
    clean_env.setenv("PUBLIC_URL", "https://chat.example.com/")
    s = load_settings()
    assert (s.public_url, s.allowed_origins, s.cookie_secure) == (
        "https://chat.example.com",
        ("https://chat.example.com",),
        True,
    )
    assert s.cookie_name == "__Host-chat_session"  # Secure, Path=/, no Domain: no subdomain can set it
    clean_env.setenv("PUBLIC_URL", "http://127.0.0.1:8000")
    assert load_settings().allowed_origins == (
        "http://localhost:8000",
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
    )
    clean_env.setenv("ALLOWED_ORIGINS", " https://a.example, https://b.example ,")
    clean_env.setenv("MAX_IMAGE_MB", "1.5")
    s = load_settings()
    assert s.allowed_origins == ("https://a.example", "https://b.example")
    assert s.max_image_bytes == int(1.5 * 1024 * 1024)


@pytest.mark.parametrize(("port", "security"), [("587", "starttls"), ("465", "ssl"), ("25", "none")])
def test_smtp_security_follows_the_port_unless_set(clean_env, port, security):
    clean_env.setenv("SMTP_HOST", "mail.example.com")
    clean_env.setenv("SMTP_PORT", port)
    smtp = load_settings().smtp
    assert smtp is not None
    assert (smtp.port, smtp.security, smtp.sender) == (
        int(port),
        security,
        "Chat App <no-reply@mail.example.com>",
    )
    clean_env.setenv("SMTP_SECURITY", "SSL")
    assert load_settings().smtp.security == "ssl"


def test_oidc_providers_appear_only_when_configured(clean_env):
    clean_env.setenv("GOOGLE_CLIENT_ID", "g-id")
    assert load_settings().oidc_providers == ()  # the secret is missing
    clean_env.setenv("GOOGLE_CLIENT_SECRET", "g-secret")
    clean_env.setenv("OIDC_CLIENT_ID", "o-id")
    clean_env.setenv("OIDC_DISCOVERY_URL", "https://idp.example/.well-known/openid-configuration")
    google, oidc = load_settings().oidc_providers
    assert (google.name, google.client_secret, google.discovery_url) == (
        "google",
        "g-secret",
        settings.GOOGLE_DISCOVERY_URL,
    )
    assert (oidc.name, oidc.label, oidc.client_id) == ("oidc", "Single sign-on", "o-id")


def test_secrets_stay_out_of_the_settings_repr(clean_env):
    clean_env.setenv("SECRET_KEY", "top-secret-key")
    clean_env.setenv("SMTP_PASSWORD", "mail-password")
    clean_env.setenv("DATABASE_URL", "postgresql+psycopg://app:db-password@db/chat")
    shown = repr(load_settings())
    assert "top-secret-key" not in shown and "mail-password" not in shown and "db-password" not in shown


def test_settings_are_read_once_until_the_cache_is_cleared(clean_env):
    clean_env.setenv("SESSION_DAYS", "3")
    settings.get_settings.cache_clear()
    try:
        first = settings.get_settings()
        clean_env.setenv("SESSION_DAYS", "4")
        assert settings.get_settings() is first
        settings.get_settings.cache_clear()
        assert settings.get_settings().session_days == 4.0
    finally:
        settings.get_settings.cache_clear()


def test_provider_variables_are_read_when_asked(monkeypatch):
    monkeypatch.setenv("LAB_API_KEY", " k-123 \n")
    assert settings.provider_variable("LAB_API_KEY") == "k-123"
    monkeypatch.delenv("LAB_API_KEY")
    assert settings.provider_variable("LAB_API_KEY") == ""


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "chat_app.migrations"],  # `make migrate`
        [sys.executable, "-c", "import rxconfig"],  # what `reflex run` loads first, in every worker
    ],
)
def test_a_bad_value_stops_start_up_with_the_sentence(command, tmp_path):
    env = {**os.environ, "LLM_TOTAL_TIMEOUT": "abc", "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert done.stderr.strip() == "LLM_TOTAL_TIMEOUT must be a positive number of seconds, got 'abc'."


# ----- budgets and the operator role ------------------------------------------------------------


def test_budgets_and_the_operator_role_have_defaults_and_read_lists(clean_env):
    s = load_settings()
    assert (s.replies_in_flight_per_person, s.requests_per_minute_per_person, s.monthly_spend_per_person) == (
        3,
        30,
        10.0,
    )
    assert (s.admin_emails, s.registration) == ((), "open")
    clean_env.setenv("ADMIN_EMAILS", " Boss@Example.com, ops@example.com ,")
    clean_env.setenv("REGISTRATION", " Example.COM, @example.org ,example.com")
    clean_env.setenv("MONTHLY_SPEND_PER_PERSON", "0")
    s = load_settings()
    assert s.admin_emails == ("boss@example.com", "ops@example.com")
    assert s.registration == "example.com,example.org"
    assert s.monthly_spend_per_person == 0
    clean_env.setenv("REGISTRATION", "Closed")
    assert load_settings().registration == "closed"


@pytest.mark.parametrize(
    ("variable", "value", "sentence"),
    [
        (
            "REPLIES_IN_FLIGHT_PER_PERSON",
            "-1",
            "REPLIES_IN_FLIGHT_PER_PERSON must be a whole number, 0 for no limit, got '-1'.",
        ),
        (
            "REQUESTS_PER_MINUTE_PER_PERSON",
            "2.5",
            "REQUESTS_PER_MINUTE_PER_PERSON must be a whole number, 0 for no limit, got '2.5'.",
        ),
        (
            "MONTHLY_SPEND_PER_PERSON",
            "$5",
            "MONTHLY_SPEND_PER_PERSON must be an amount in dollars, 0 for no limit, got '$5'.",
        ),
        (
            "REGISTRATION",
            "invite-only",
            "REGISTRATION must be open, closed, or the email domains that may register, separated by "
            "commas, got 'invite-only'.",
        ),
    ],
)
def test_a_bad_budget_or_registration_value_is_refused_with_a_sentence(clean_env, variable, value, sentence):
    clean_env.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value) == sentence


def test_upload_limits_have_their_defaults_and_refuse_bad_values(clean_env):
    s = load_settings()
    assert (s.max_animation_pixels, s.max_animation_frames) == (100_000_000, 1000)
    assert (s.max_upload_files, s.max_upload_bytes) == (10, 500 * 1024 * 1024)
    assert s.storage_quota_bytes == 1024 * 1024 * 1024
    clean_env.setenv("STORAGE_QUOTA_MB", "0.5")
    assert load_settings().storage_quota_bytes == 512 * 1024
    for variable, value, what in [
        ("MAX_UPLOAD_FILES", "0", "a positive whole number of files"),
        ("MAX_ANIMATION_FRAMES", "many", "a positive whole number of frames"),
        ("MAX_ANIMATION_MEGAPIXELS", "-5", "a positive number of megapixels"),
        ("MAX_UPLOAD_MB", "1GB", "a positive number of megabytes"),
        ("STORAGE_QUOTA_MB", "0", "a positive number of megabytes"),
    ]:
        clean_env.setenv(variable, value)
        with pytest.raises(SettingsError) as refused:
            load_settings()
        assert f"{variable} must be {what}, got '{value}'." in str(refused.value)
        clean_env.delenv(variable)


def test_sharing_and_outbound_settings(clean_env):
    s = load_settings()
    assert (s.invite_emails_per_day, s.invite_emails_per_recipient_per_day) == (50, 5)
    assert s.outbound_private_addresses_allowed is False
    clean_env.setenv("INVITE_EMAILS_PER_DAY", "200")
    clean_env.setenv("INVITE_EMAILS_PER_RECIPIENT_PER_DAY", "2")
    clean_env.setenv("OUTBOUND_PRIVATE_ADDRESSES_ALLOWED", "true")
    s = load_settings()
    assert (s.invite_emails_per_day, s.invite_emails_per_recipient_per_day) == (200, 2)
    assert s.outbound_private_addresses_allowed is True
    for variable, value, sentence in [
        (
            "INVITE_EMAILS_PER_DAY",
            "0",
            "INVITE_EMAILS_PER_DAY must be a positive whole number of emails, got '0'.",
        ),
        (
            "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED",
            "sometimes",
            "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED must be true or false, got 'sometimes'.",
        ),
    ]:
        clean_env.setenv(variable, value)
        with pytest.raises(SettingsError) as refused:
            load_settings()
        assert str(refused.value) == sentence
        clean_env.delenv(variable)


def test_a_local_app_lets_its_pages_connect_to_every_local_name_the_policy_can_write(clean_env):
    from chat_app.api.page_policy import content_security_policy

    settings.get_settings.cache_clear()
    try:
        policy = dict((d.split()[0], d.split()[1:]) for d in content_security_policy([]).split("; "))
    finally:
        settings.get_settings.cache_clear()
    assert "http://127.0.0.1:3000" in policy["connect-src"] and "ws://localhost:3000" in policy["connect-src"]
    # a browser rejects an IPv6 literal in a policy with an error; 'self' covers a page opened at one
    assert not any("[" in source for source in policy["connect-src"])
