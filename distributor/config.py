"""Settings from environment variables, with embedded defaults.

Nothing here touches the disk or the network at import. :func:`get_settings` validates once
and caches; a bad value raises :class:`ConfigurationError` naming the variable.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from distributor.domain.addresses import email_problem

# What a scaled-out deployment (REDIS_URL set, demo mode off) must set itself, and why.
DEPLOYMENT_REQUIRED: dict[str, str] = {
    "SECRET_KEY": "it signs every reader token and desk session, in every process alike",
    "PUBLIC_BASE_URL": "unsubscribe, confirmation, archive and feed links are built from it",
    "MAIL_FROM": "the address every email is sent from",
    "PUBLISHER_NAME": "the sender name and the name in every email's footer",
    "PUBLISHER_ADDRESS": "the postal address every email's footer shows (CAN-SPAM, GDPR)",
}


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


# Shortest SECRET_KEY accepted: it signs every reader token and desk session.
SECRET_KEY_MIN_LENGTH = 24
# Characters that have no place in a URL we print into pages, emails and feeds.
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\"'<>\\`{}|^]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COLOR = re.compile(r"^(#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6}|[A-Za-z]{3,20})$")
_FONT_STACK = re.compile(r"^[\w ,.'\"-]+$")
# RFC 4151 authorityName: a DNS name or an email address.
_DNS_NAME = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
TAG_AUTHORITY = re.compile(rf"^(?:[a-z0-9._-]+@)?{_DNS_NAME}$")
# The tagging authority when neither FEED_TAG_AUTHORITY nor a named host is configured.
FALLBACK_TAG_AUTHORITY = "localhost"


def _tag_authority_of(url: str) -> str | None:
    """The host of ``url`` when it can be a tag authority (a DNS name, not an IP address)."""
    host = (urlsplit(url).hostname or "").lower()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host if TAG_AUTHORITY.match(host) else None
    return None


def _check_web_url(value: str, name: str) -> str:
    """An http(s) URL with a host and nothing that could break out of an attribute."""
    _check_url(value, ("http", "https"), name)
    if _URL_FORBIDDEN.search(value):
        raise ValueError(
            f"{name} contains a space, quote, angle bracket or control character"
            f" (got {value!r}); percent-encode it"
        )
    if not urlsplit(value).hostname:
        raise ValueError(f"{name} has no host name (got {value!r})")
    return value


def _check_no_control(value: str, name: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"{name} contains a line break or control character ({value!r})")
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
    NEWSROOM_TIMEZONE: str = Field(
        default="UTC", description="IANA zone the desk shows times in and schedules in."
    )

    # --- email sending ---------------------------------------------------------------------
    MAIL_FROM: str = "newsletter@localhost"
    MAIL_FROM_NAME: str = Field(
        default="", description="Display name of the sender; unset: PUBLISHER_NAME."
    )
    MAIL_REPLY_TO: str | None = None
    SENDGRID_API_KEY: str | None = None
    SENDGRID_API_HOST: str = "https://api.sendgrid.com"
    SENDGRID_TIMEOUT_SECONDS: float = 10.0
    SENDGRID_WEBHOOK_PUBLIC_KEY: str | None = None
    SENDGRID_WEBHOOK_MAX_AGE_SECONDS: int = 600
    SOFT_BOUNCE_LIMIT: int = Field(default=3, ge=1, le=100)
    SMTP_URL: str | None = None
    OUTBOX_DIR: Path | None = None
    # After SENDGRID_API_KEY and SMTP_URL: its check reads them.
    MAIL_BACKEND: str | None = Field(
        default=None,
        description="sendgrid, smtp or outbox; unset: SendGrid with a key, else SMTP, else outbox.",
    )
    SEND_BATCH_SIZE: int = Field(default=1000, ge=1, le=1000)
    SEND_LEDGER_CHUNK: int = Field(default=50_000, ge=1)
    SEND_DEADLINE_SECONDS: int = Field(default=6 * 3600, ge=60)
    SEND_MAX_CONSECUTIVE_FAILURES: int = Field(default=10, ge=1)
    SEND_MAX_BATCH_ATTEMPTS: int = Field(default=8, ge=1)
    SEND_RETRY_BASE_SECONDS: float = Field(default=2.0, gt=0)
    SEND_RETRY_CAP_SECONDS: float = Field(default=300.0, gt=0)
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
    FEED_TAG_AUTHORITY: str | None = Field(
        default=None,
        description=(
            "Domain (or email address) we own, the authority of the tag: ids minted for"
            " stories; unset = the host of PUBLIC_BASE_URL, else of PUBLISHER_URL."
        ),
    )
    FEED_PAGE_SIZE: int = Field(default=50, ge=1, le=500)
    PARTNER_RATE_LIMIT_PER_MINUTE: int = Field(default=120, ge=1)

    # --- outgoing HTTP (feed fetches, partner pushes, WebSub pings) ------------------------
    FETCH_DEADLINE_SECONDS: float = Field(
        default=60.0, gt=0, description="Wall-clock limit of one feed fetch, body included."
    )
    FETCH_ALLOW_PRIVATE_ADDRESSES: bool = Field(
        default=False,
        description="Allow loopback, private and link-local targets (intranets, tests).",
    )
    FETCH_ALLOWED_NETWORKS: str = Field(
        default="", description="Comma-separated internal networks that may be reached."
    )

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

    # --- HTTP edge -------------------------------------------------------------------------
    TRUSTED_PROXIES: str = Field(
        default="",
        description=(
            "Comma-separated addresses or CIDR networks of reverse proxies whose"
            " X-Forwarded-For / X-Forwarded-Proto are believed; empty = none, * = any."
        ),
    )
    IMPORT_MAX_BYTES: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Largest CSV file the desk import accepts (the upload is cut beyond it).",
    )
    SESSION_IDLE_SECONDS: int = Field(
        default=2 * 3600, ge=1, description="A desk session ends after this long unused."
    )
    SESSION_LIFETIME_SECONDS: int = Field(
        default=12 * 3600, ge=1, description="A desk session ends this long after sign-in."
    )
    API_DOCS: bool = Field(
        default=False, description="Serve the OpenAPI schema and /api/docs (off by default)."
    )
    METRICS_TOKEN: str | None = Field(
        default=None,
        min_length=16,
        description="Bearer token of GET /metrics (Prometheus); unset = /metrics not served.",
    )
    PROMETHEUS_MULTIPROC_DIR: Path | None = Field(
        default=None,
        description="Directory where every process of a host writes its metrics; /metrics "
        "adds them up. Set it in the environment before the processes start.",
    )

    # --- personal data ---------------------------------------------------------------------
    ADDRESS_HASH_KEY: str | None = Field(
        default=None,
        min_length=16,
        description="Secret the stored address hashes are keyed with; unset = SECRET_KEY.",
    )
    EVENT_RETENTION_DAYS: int = Field(
        default=30, ge=1, description="Days raw provider event payloads are kept."
    )
    PREFERENCES_LINK_MAX_AGE_DAYS: int = Field(
        default=90, ge=1, description="Days a link from an email opens the preferences page."
    )

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("DATABASE_URL must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("NEWSROOM_TIMEZONE")
    @classmethod
    def _newsroom_timezone(cls, value: str) -> str:
        name = value.strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "NEWSROOM_TIMEZONE must be an IANA time zone name like Europe/London or UTC"
            ) from None
        return name

    @model_validator(mode="after")
    def _sender_name(self) -> Settings:
        # The publication is the sender unless a name is set on purpose.
        if not self.MAIL_FROM_NAME.strip():
            self.MAIL_FROM_NAME = self.PUBLISHER_NAME
        return self

    @field_validator("FETCH_ALLOWED_NETWORKS")
    @classmethod
    def _allowed_networks(cls, value: str) -> str:
        import ipaddress

        for item in value.split(","):
            if item.strip():
                try:
                    ipaddress.ip_network(item.strip(), strict=False)
                except ValueError as exc:
                    raise ValueError(
                        f"FETCH_ALLOWED_NETWORKS: {item.strip()!r} is not an address or a network"
                        " such as 10.1.2.0/24"
                    ) from exc
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
    def _http_url(cls, value: str, info: ValidationInfo) -> str:
        return _check_web_url(value, str(info.field_name)).rstrip("/")

    @field_validator("FEED_TAG_AUTHORITY")
    @classmethod
    def _tag_authority(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().lower()
        if not TAG_AUTHORITY.match(value):
            raise ValueError(
                "must be a domain name such as news.example.org or an email address such as"
                f" feeds@news.example.org (RFC 4151), without scheme, port or path (got {value!r})"
            )
        return value

    @field_validator("BRAND_LOGO_URL")
    @classmethod
    def _logo_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        return _check_web_url(value, "BRAND_LOGO_URL")

    @field_validator("MAIL_FROM", "MAIL_REPLY_TO")
    @classmethod
    def _mail_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        # Written into headers as given, so no surrounding spaces and no non-ASCII domain.
        problem = email_problem(value, ascii_only=True, single_label_domain=True)
        if problem is not None or value != value.strip():
            raise ValueError(
                f"{info.field_name} must be a plain ASCII address like news@example.org,"
                " without spaces, quotes, angle brackets or line breaks"
                + (f" ({problem})" if problem else "")
            )
        return value

    @field_validator("MAIL_FROM_NAME", "PUBLISHER_NAME")
    @classmethod
    def _one_line(cls, value: str, info: ValidationInfo) -> str:
        return _check_no_control(value, str(info.field_name))

    @field_validator("SECRET_KEY")
    @classmethod
    def _secret_key(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if len(value) < SECRET_KEY_MIN_LENGTH or value != value.strip() or _CONTROL.search(value):
            raise ValueError(
                f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters without"
                " spaces around it (make one with: python -c 'import secrets;"
                " print(secrets.token_urlsafe(48))'), or unset it to use a generated key"
            )
        return value

    @field_validator("BRAND_PRIMARY_COLOR", "BRAND_TEXT_COLOR", "BRAND_BACKGROUND_COLOR")
    @classmethod
    def _color(cls, value: str, info: ValidationInfo) -> str:
        if not _COLOR.match(value):
            raise ValueError(
                f"{info.field_name} must be a colour like #8a1c1c, #fff or a CSS colour name"
                f" (got {value!r})"
            )
        return value

    @field_validator("BRAND_FONT_STACK")
    @classmethod
    def _font_stack(cls, value: str) -> str:
        if not _FONT_STACK.match(value):
            raise ValueError(
                "BRAND_FONT_STACK must be font names separated by commas (letters, digits,"
                f" spaces, quotes, dots and hyphens only; got {value!r})"
            )
        return value

    @field_validator("SENDGRID_WEBHOOK_PUBLIC_KEY")
    @classmethod
    def _webhook_key(cls, value: str | None) -> str | None:
        if not value:
            return None
        from distributor.adapters.sendgrid_webhook import load_public_key

        load_public_key(value)  # raises ValueError naming the variable
        return value

    @field_validator("MAIL_BACKEND", mode="before")
    @classmethod
    def _mail_backend_name(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().lower() or None
        return value

    @field_validator("MAIL_BACKEND")
    @classmethod
    def _mail_backend(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        from distributor.adapters.email_base import MAIL_BACKENDS

        backend = MAIL_BACKENDS.get(value)
        if backend is None:
            raise ValueError(
                f"unknown mail backend {value!r}: use one of {', '.join(sorted(MAIL_BACKENDS))}"
                " (or leave it unset)"
            )
        missing = [name for name in backend.requires if not info.data.get(name)]
        if missing:
            raise ValueError(
                f"MAIL_BACKEND={value} needs {' and '.join(missing)} to be set"
                " (set it, or choose another backend)"
            )
        return value

    @field_validator("TRUSTED_PROXIES")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        for entry in (item.strip() for item in value.split(",")):
            if entry in ("", "*"):
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or CIDR network"
                    " (e.g. 10.0.0.1, 10.0.0.0/8, ::1)"
                ) from None
        return value

    # --- derived values --------------------------------------------------------------------
    def missing_for_deployment(self) -> list[tuple[str, str]]:
        """Settings a scaled-out deployment must set itself, with why, when they are unset.

        Their defaults are the demo's (a made-up publisher, ``newsletter@localhost``, a key
        generated per process), which a real newsroom must never send or sign with. Demo mode
        asks only for PUBLIC_BASE_URL (its links must still work).
        """
        missing = []
        for name, why in DEPLOYMENT_REQUIRED.items():
            if self.DEMO_MODE and name != "PUBLIC_BASE_URL":
                continue
            value = getattr(self, name)
            if name not in self.model_fields_set or value is None or not str(value).strip():
                missing.append((name, why))
        return missing

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: tasks run inside the serving process."""
        return not self.REDIS_URL

    @property
    def public_base_url_set(self) -> bool:
        """True when PUBLIC_BASE_URL was given (else links fall back to where ``serve`` runs)."""
        return "PUBLIC_BASE_URL" in self.model_fields_set

    @property
    def feed_tag_authority(self) -> str:
        """The authority of minted story ids: FEED_TAG_AUTHORITY, else the host of
        PUBLIC_BASE_URL, else of PUBLISHER_URL (IP addresses skipped), else ``localhost``.

        It is part of every minted id: keep it once partners have read the feeds.
        """
        if self.FEED_TAG_AUTHORITY:
            return self.FEED_TAG_AUTHORITY
        for url in (self.PUBLIC_BASE_URL, self.PUBLISHER_URL):
            authority = _tag_authority_of(url)
            if authority:
                return authority
        return FALLBACK_TAG_AUTHORITY

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
    def trusted_proxies(self) -> list[str]:
        """TRUSTED_PROXIES as a list of addresses/networks (empty: trust no proxy)."""
        return [item.strip() for item in self.TRUSTED_PROXIES.split(",") if item.strip()]

    @property
    def broker_url(self) -> str:
        """Celery broker: Redis when configured, else the in-process memory transport."""
        # The host is named: kombu warns on every connection to a URL without one.
        return self.REDIS_URL or "memory://localhost//"

    @property
    def outbox_dir(self) -> Path:
        """Folder for .eml files when no SendGrid key or SMTP URL is set."""
        return self.OUTBOX_DIR or self.DATA_DIR / "outbox"

    @property
    def sender_kind(self) -> str:
        """The mail backend in use: MAIL_BACKEND, or when unset SendGrid with a key, else SMTP
        with a URL, else the outbox folder."""
        if self.MAIL_BACKEND:
            return self.MAIL_BACKEND
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

    def address_hash_key(self) -> bytes:
        """The key of the stored address hashes (derived, so it is never SECRET_KEY itself).

        It must stay the same for the life of the database: set ADDRESS_HASH_KEY to the old
        SECRET_KEY before rotating SECRET_KEY, or suppressions stop matching.
        """
        base = self.ADDRESS_HASH_KEY or self.secret_key()
        return hmac.digest(base.encode("utf-8"), b"distributor-address-hash", "sha256")


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
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{variable}: {message}")
        raise ConfigurationError("bad configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated once."""
    return load_settings()
