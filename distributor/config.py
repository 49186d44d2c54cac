"""Settings from environment variables, with embedded defaults.

Nothing here touches the disk or the network at import. :func:`get_settings` validates once
and caches; a bad value raises :class:`ConfigurationError` naming the variable.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(RuntimeError):
    """Raised at start when an environment variable has an unusable value."""


def _check_url(value: str | None, schemes: tuple[str, ...], name: str) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        allowed = ", ".join(f"{scheme}://" for scheme in schemes)
        raise ValueError(f"{name} must start with one of {allowed} (got {value!r})")
    return value


class Settings(BaseSettings):
    """Every knob of the service. Field names are the environment variable names."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=True, extra="ignore")

    # --- core wiring -----------------------------------------------------------------------
    DATA_DIR: Path = Field(default=Path("var"), description="Where embedded state lives.")
    DATABASE_URL: str = Field(
        default="", description="SQLAlchemy URL; empty = SQLite file under DATA_DIR."
    )
    REDIS_URL: str | None = Field(
        default=None, description="Celery broker; unset = embedded mode (no Redis)."
    )
    SECRET_KEY: str | None = Field(
        default=None, description="Signs tokens and sessions; unset = generated under DATA_DIR."
    )
    PUBLIC_BASE_URL: str = "http://127.0.0.1:8000"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    LOG_FORMAT: Literal["json", "text"] = "json"

    # --- email sending ---------------------------------------------------------------------
    MAIL_FROM: str = "newsletter@localhost"
    MAIL_FROM_NAME: str = "Distributor"
    MAIL_REPLY_TO: str | None = None
    SENDGRID_API_KEY: str | None = None
    SENDGRID_API_HOST: str = "https://api.sendgrid.com"
    SENDGRID_TIMEOUT_SECONDS: float = 10.0
    SENDGRID_WEBHOOK_PUBLIC_KEY: str | None = None
    SENDGRID_WEBHOOK_MAX_AGE_SECONDS: int = 600
    SOFT_BOUNCE_LIMIT: int = Field(default=3, ge=1, le=100)
    SMTP_URL: str | None = None
    OUTBOX_DIR: Path | None = None
    SEND_BATCH_SIZE: int = Field(default=1000, ge=1, le=1000)
    SEND_LEDGER_CHUNK: int = Field(default=50_000, ge=1)
    SEND_DEADLINE_SECONDS: int = Field(default=6 * 3600, ge=60)
    SEND_MAX_CONSECUTIVE_FAILURES: int = Field(default=10, ge=1)
    SEND_LEASE_SECONDS: int = Field(default=120, ge=5)
    SEND_RECONCILE_GRACE_SECONDS: int = Field(default=900, ge=1)
    SCHEDULER_TICK_SECONDS: float = Field(default=10.0, gt=0)

    # --- tracking (off unless the publisher opts in) ---------------------------------------
    TRACK_OPENS: bool = False
    TRACK_CLICKS: bool = False

    # --- publisher identity and house style ------------------------------------------------
    PUBLISHER_NAME: str = "Distributor Demo Magazine"
    PUBLISHER_ADDRESS: str = "1 Example Street, London EC1A 1AA, United Kingdom"
    PUBLISHER_URL: str = "https://magazine.example.org"
    BRAND_LOGO_URL: str | None = None
    BRAND_PRIMARY_COLOR: str = "#8a1c1c"
    BRAND_TEXT_COLOR: str = "#1a1a1a"
    BRAND_BACKGROUND_COLOR: str = "#f6f3ee"
    BRAND_FONT_STACK: str = (
        "Georgia, 'Times New Roman', 'Songti SC', 'Noto Serif CJK SC', 'SimSun', serif"
    )
    EMAIL_EXCERPT_WORDS: int = Field(default=60, ge=10, le=400)
    EMAIL_HTML_BUDGET_BYTES: int = Field(default=100_000, ge=10_000)

    # --- syndication -----------------------------------------------------------------------
    WEBSUB_HUB_URL: str | None = None
    FEED_PAGE_SIZE: int = Field(default=50, ge=1, le=500)
    PARTNER_RATE_LIMIT_PER_MINUTE: int = Field(default=120, ge=1)

    # --- web -------------------------------------------------------------------------------
    SIGNUP_RATE_LIMIT_PER_HOUR: int = Field(default=20, ge=1)
    CONFIRMATION_COOLDOWN_SECONDS: int = Field(
        default=24 * 3600,
        ge=0,
        description="At most one confirmation email per address (any list) in this time.",
    )
    LOGIN_FAILURES_PER_CLIENT: int = Field(
        default=4,
        ge=1,
        description="Failed desk sign-ins one client address may make per window; then 429.",
    )
    LOGIN_CLIENT_WINDOW_SECONDS: int = Field(
        default=15 * 60, ge=1, description="The window of LOGIN_FAILURES_PER_CLIENT."
    )
    API_KEY: str | None = Field(
        default=None,
        description="Key for the articles JSON API (header X-Api-Key); unset = API refused.",
    )
    DEMO_MODE: bool = Field(
        default=False,
        description="Load demo data and a demo editor account (embedded only; also --demo).",
    )

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("DATABASE_URL must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("redis", "rediss"), "REDIS_URL")

    @field_validator("SMTP_URL")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("smtp", "smtps", "smtp+starttls"), "SMTP_URL")

    @field_validator("PUBLIC_BASE_URL", "SENDGRID_API_HOST", "PUBLISHER_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        checked = _check_url(value, ("http", "https"), "this variable")
        return (checked or value).rstrip("/")

    @field_validator("MAIL_FROM")
    @classmethod
    def _mail_from(cls, value: str) -> str:
        if "@" not in value or value.strip() != value or not value.isascii():
            raise ValueError("MAIL_FROM must be a plain ASCII address like news@example.org")
        return value

    # --- derived values --------------------------------------------------------------------
    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: tasks run inside the serving process."""
        return not self.REDIS_URL

    @property
    def database_url(self) -> str:
        """The effective SQLAlchemy URL (SQLite under DATA_DIR when DATABASE_URL is empty)."""
        if self.DATABASE_URL:
            url = self.DATABASE_URL
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.DATA_DIR / 'distributor.db').as_posix()}"

    @property
    def broker_url(self) -> str:
        """Celery broker: Redis when configured, else the in-process memory transport."""
        return self.REDIS_URL or "memory://"

    @property
    def outbox_dir(self) -> Path:
        """Folder for .eml files when no SendGrid key or SMTP URL is set."""
        return self.OUTBOX_DIR or self.DATA_DIR / "outbox"

    @property
    def sender_kind(self) -> Literal["sendgrid", "smtp", "outbox"]:
        """Which email sender is in use (SendGrid wins over SMTP; else the outbox)."""
        if self.SENDGRID_API_KEY:
            return "sendgrid"
        if self.SMTP_URL:
            return "smtp"
        return "outbox"

    def secret_key(self) -> str:
        """SECRET_KEY, or a key generated once and kept in DATA_DIR/secret.key."""
        if self.SECRET_KEY:
            return self.SECRET_KEY
        path = self.DATA_DIR / "secret.key"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: the process environment).

    Raises :class:`ConfigurationError` whose message names each bad variable.
    """
    source = dict(os.environ if environ is None else environ)
    try:
        if environ is None:
            return Settings()
        return Settings(**{k: v for k, v in source.items() if k in Settings.model_fields})  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"]) or "settings"
            problems.append(f"{variable}: {error['msg']}")
        raise ConfigurationError("bad configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated once."""
    return load_settings()
