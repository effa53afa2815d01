"""Settings, read from the environment once and validated at start-up."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///var/policy_tracker.db"


class SettingsError(ValueError):
    """A setting is missing or malformed; the service refuses to start."""


def _int_setting(environ: dict[str, str], name: str, default: int, minimum: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from error
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool_setting(environ: dict[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
            raise SettingsError(
                f"CORS_ORIGINS holds {origin!r}: give origins like https://example.org"
            )
    return origins


def _public_base_url(raw: str) -> str | None:
    """PUBLIC_BASE_URL: where clients reach the service's root, with no query, fragment or
    credentials; a trailing slash is dropped. Unset: links are relative."""
    if not raw.strip():
        return None
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
        or "?" in url
        or "#" in url
        or any(character.isspace() for character in url)
    ):
        raise SettingsError(
            f"PUBLIC_BASE_URL holds {raw!r}: give the service's URL, like https://api.example.org"
        )
    return url


def _local_secret_key(var_dir: Path) -> str:
    """A random key kept under var/, so a local `make run` signs page tokens stably.

    Production sets SECRET_KEY; every worker and host must share it.
    """
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default="", repr=False)
    max_body_bytes: int = 1024 * 1024
    # A bulk import may be larger than a JSON body.
    max_import_bytes: int = 100 * 1024 * 1024
    default_page_size: int = 50
    max_page_size: int = 200
    # Bounds the time any one SQL statement may take on PostgreSQL (milliseconds).
    statement_timeout_ms: int = 5000
    # How long an Idempotency-Key and its first response are kept.
    idempotency_ttl_hours: int = 24
    # The interactive reference at /docs (the spec stays at /api/v1/openapi.json).
    docs_enabled: bool = True
    # Reads without an API key; writes always need one.
    public_read: bool = True
    # Browser origins allowed to call the API (CORS); none by default.
    cors_origins: tuple[str, ...] = ()
    # Requests a minute for each API key, and for each address without one; 0 turns it off.
    rate_limit_per_minute: int = 600
    anonymous_rate_limit_per_minute: int = 120
    # Where the rate-limit counts live, shared by every worker; in memory when unset.
    redis_url: str | None = field(default=None, repr=False)
    # Webhooks: tries before a delivery fails, the first wait between tries (doubling after),
    # and whether subscriptions may point at private or loopback addresses.
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: int = 10
    webhook_allow_private_targets: bool = False
    # Background jobs (service/jobs): how long a worker's claim on a job lasts without a
    # heartbeat before another worker may take the job up, and how many claims a job gets
    # before it is failed rather than tried again.
    job_lease_seconds: int = 60
    job_max_attempts: int = 3
    # The speed-ups of service/speedups (the read cache, the lookups' own connection, the
    # compiled dumps, orjson); off, the service runs plain, with the same answers.
    speedups: bool = True
    # Each worker's budget for answers to public reads (service/speedups/readcache.py); 0
    # turns the read cache off.
    read_cache_mb: int = 16
    # Long polls (`/changes?wait=`) one process holds at once; past it, a 503 with Retry-After.
    # Room for about all of a host's polls in one process: gunicorn's workers do not share
    # connections out evenly (docs/serving-model.md).
    long_polls_per_process: int = 200
    # Proxies in front of the service whose X-Forwarded-For may be believed.
    trusted_proxy_hops: int = 0
    # Where clients reach the service (https://api.example.org), for the absolute URLs of
    # `Link` headers; unset, they are relative. Never taken from the request's Host.
    public_base_url: str | None = None
    debug: bool = False
    testing: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        if not database_url.startswith(("sqlite", "postgresql")):
            raise SettingsError("DATABASE_URL must be a sqlite:// or postgresql:// URL")
        if database_url.startswith("postgresql://"):
            # psycopg 3 is the driver; accept the plain URL that other tools print.
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        secret_key = env.get("SECRET_KEY") or _local_secret_key(Path(env.get("VAR_DIR", "var")))
        if len(secret_key) < 16:
            raise SettingsError("SECRET_KEY must be at least 16 characters")
        settings = cls(
            database_url=database_url,
            secret_key=secret_key,
            max_body_bytes=_int_setting(env, "MAX_BODY_BYTES", cls.max_body_bytes, 1024),
            max_import_bytes=_int_setting(env, "MAX_IMPORT_BYTES", cls.max_import_bytes, 1024),
            default_page_size=_int_setting(env, "DEFAULT_PAGE_SIZE", cls.default_page_size, 1),
            max_page_size=_int_setting(env, "MAX_PAGE_SIZE", cls.max_page_size, 1),
            statement_timeout_ms=_int_setting(
                env, "STATEMENT_TIMEOUT_MS", cls.statement_timeout_ms, 0
            ),
            idempotency_ttl_hours=_int_setting(
                env, "IDEMPOTENCY_TTL_HOURS", cls.idempotency_ttl_hours, 1
            ),
            docs_enabled=_bool_setting(env, "DOCS_ENABLED", True),
            public_read=_bool_setting(env, "PUBLIC_READ", True),
            cors_origins=_origins(env.get("CORS_ORIGINS", "")),
            rate_limit_per_minute=_int_setting(
                env, "RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute, 0
            ),
            anonymous_rate_limit_per_minute=_int_setting(
                env, "ANONYMOUS_RATE_LIMIT_PER_MINUTE", cls.anonymous_rate_limit_per_minute, 0
            ),
            redis_url=env.get("REDIS_URL") or None,
            trusted_proxy_hops=_int_setting(env, "TRUSTED_PROXY_HOPS", 0, 0),
            public_base_url=_public_base_url(env.get("PUBLIC_BASE_URL", "")),
            speedups=_bool_setting(env, "SPEEDUPS", True),
            read_cache_mb=_int_setting(env, "READ_CACHE_MB", cls.read_cache_mb, 0),
            long_polls_per_process=_int_setting(
                env, "LONG_POLLS_PER_PROCESS", cls.long_polls_per_process, 1
            ),
            webhook_max_attempts=_int_setting(
                env, "WEBHOOK_MAX_ATTEMPTS", cls.webhook_max_attempts, 1
            ),
            webhook_backoff_seconds=_int_setting(
                env, "WEBHOOK_BACKOFF_SECONDS", cls.webhook_backoff_seconds, 0
            ),
            webhook_allow_private_targets=_bool_setting(
                env, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False
            ),
            job_lease_seconds=_int_setting(env, "JOB_LEASE_SECONDS", cls.job_lease_seconds, 1),
            job_max_attempts=_int_setting(env, "JOB_MAX_ATTEMPTS", cls.job_max_attempts, 1),
            debug=_bool_setting(env, "FLASK_DEBUG", False),
        )
        if settings.default_page_size > settings.max_page_size:
            raise SettingsError("DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE")
        return settings
