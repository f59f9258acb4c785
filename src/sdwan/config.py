"""Settings: built by a function from arguments and the environment, passed down."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sdwan.auth.keystone import KeystoneConfig
from sdwan.auth.tokens import check_bootstrap_token
from sdwan.domain.api_address import DEFAULT_ALLOW, parse_allowlist
from sdwan.domain.webhook_url import DEFAULT_WEBHOOK_ALLOW, parse_webhook_allowlist

DEFAULT_DB_PATH = Path("~/.local/share/sdwan/sdwan.db")


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 9998
    admin_token: str | None = None  # SDWAN_ADMIN_TOKEN; otherwise generated at first start
    secret_key_file: Path = field(default=Path("secret.key"))
    # SDWAN_SECRET_KEY: the key itself (wins over the file); never shown by repr
    secret_key: str | None = field(default=None, repr=False)
    reconcile_interval: float = 60.0  # full read-back of every router (drift), jittered
    workers: int = 8  # reconcile passes that may run at once, whatever the fleet's size
    counters_delay: float = 3.0  # prefix counters read this long after sessions changed
    probe_interval: float = 1.0  # GetBgp where no watch stream runs (fake speakers)
    grpc_timeout: float = 5.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    run_reconciler: bool = True
    session_ttl: float = 12 * 3600.0  # SDWAN_SESSION_TTL: seconds a login token lives
    auth_backend: str = "builtin"  # SDWAN_AUTH_BACKEND: builtin | keystone
    keystone: KeystoneConfig | None = None  # SDWAN_KEYSTONE_* when auth_backend=keystone
    # SDWAN_API_ADDRESS_ALLOW: gobgpd API addresses routers may use (docs/security.md)
    api_address_allow: tuple[str, ...] = DEFAULT_ALLOW
    dev_mode: bool = False  # SDWAN_DEV_MODE=1: allows a short SDWAN_ADMIN_TOKEN
    api_key_max_ttl: float = 90 * 86400.0  # SDWAN_API_KEY_MAX_TTL: seconds an API key lives
    trusted_proxies: tuple[str, ...] = ()  # SDWAN_TRUSTED_PROXIES: may set X-Forwarded-For
    gobgpd_ca_file: Path | None = None  # SDWAN_GOBGPD_CA_FILE: CA for TLS routers naming none
    tls_cert: Path | None = None  # SDWAN_TLS_CERT / --tls-cert: serve HTTPS
    tls_key: Path | None = None  # SDWAN_TLS_KEY / --tls-key
    max_body_bytes: int = 16 * 1024 * 1024  # SDWAN_MAX_BODY_BYTES: larger bodies are 413
    rib_timeout: float = 10.0  # SDWAN_RIB_TIMEOUT: seconds a RIB page may take (504 after)
    rib_per_caller: int = 2  # SDWAN_RIB_CONCURRENCY: RIB reads at once per caller (429)
    # SDWAN_PLAN_MAX_STEPS: policy evaluation steps one prediction may take
    plan_max_steps: int = 500_000
    sse_max_streams: int = 4  # SDWAN_SSE_MAX_STREAMS: event streams at once per caller
    sse_keepalive: float = 15.0  # SDWAN_SSE_KEEPALIVE: credentials re-checked this often
    sse_max_age: float = 0.0  # SDWAN_SSE_MAX_AGE: a stream ends after this (0: never)
    # replicas on PostgreSQL (docs/deploy.md): this one's name (default host:port) and
    # how long a router's lease lasts without renewal (SDWAN_LEASE_SECONDS)
    replica_name: str = ""
    lease_duration: float = 5.0
    # SDWAN_INTENT_CHECK_INTERVAL: every intent is verified at least this often (0: never)
    intent_check_interval: float = 10.0
    # SDWAN_ROLLOUT_SETTLE: seconds a rollout wave stays applied before its gate judges it
    rollout_settle: float = 2.0
    log_format: str = "text"  # SDWAN_LOG_FORMAT / --log-format: text | json
    # SDWAN_WEBHOOK_ALLOW: the addresses webhooks may post to (docs/alerts.md)
    webhook_allow: tuple[str, ...] = DEFAULT_WEBHOOK_ALLOW
    webhook_timeout: float = 10.0  # SDWAN_WEBHOOK_TIMEOUT: seconds one delivery may take
    # SDWAN_PATH_QUALITY=0: no quality controller (probe agents not followed, no steering)
    path_quality: bool = True
    # the revision log keeps the newest SDWAN_REVISION_KEEP revisions, none older than
    # SDWAN_REVISION_DAYS days (docs/revisions.md)
    revision_keep: int = 10_000
    revision_days: float = 90.0

    def __post_init__(self) -> None:
        check_bootstrap_token(self.admin_token, dev_mode=self.dev_mode)
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("HTTPS needs both a certificate and its key (--tls-cert, --tls-key)")
        if not 1.0 <= self.lease_duration <= 300.0:
            raise ValueError(
                f"the lease time must be 1 to 300 seconds (SDWAN_LEASE_SECONDS, "
                f"--lease-seconds), got {self.lease_duration:g}"
            )
        if self.log_format not in ("text", "json"):
            raise ValueError(
                f"the log format must be text or json (SDWAN_LOG_FORMAT, --log-format), "
                f"got {self.log_format!r}"
            )
        if self.revision_keep < 1 or not 0 < self.revision_days <= 36500:
            raise ValueError(
                "the revision log keeps at least one revision for some time "
                f"(SDWAN_REVISION_KEEP >= 1, SDWAN_REVISION_DAYS 0 to 36500), got "
                f"{self.revision_keep} and {self.revision_days:g}"
            )
        if len(self.replica_name) > 255 or any(c.isspace() for c in self.replica_name):
            raise ValueError(
                f"--replica-name: at most 255 characters, no spaces, got {self.replica_name!r}"
            )

    @property
    def replica(self) -> str:
        """This replica's name: --replica-name, else host:port."""
        return self.replica_name or f"{socket.gethostname()}:{self.port}"


def _default_db_url(db_path: str | None) -> str:
    """--db: an SQLite file or a database URL (postgresql+psycopg://...)."""
    from sdwan.store.db import normalize_url, sqlite_url

    if db_path:
        return normalize_url(db_path) if "://" in db_path else sqlite_url(db_path)
    url = os.environ.get("SDWAN_DATABASE_URL")
    if url:
        return url
    path = DEFAULT_DB_PATH.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return sqlite_url(path)


def load_settings(
    *,
    db: str | None = None,
    host: str | None = None,
    port: int | None = None,
    secret_key_file: str | None = None,
    reconcile_interval: float | None = None,
    workers: int | None = None,
    dev_mode: bool = False,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    replica_name: str | None = None,
    lease_seconds: float | None = None,
    log_format: str | None = None,
) -> Settings:
    """Settings from explicit arguments, then SDWAN_* environment variables, then defaults."""
    env = os.environ
    database_url = _default_db_url(db)
    if secret_key_file is None:
        secret_key_file = env.get("SDWAN_SECRET_KEY_FILE")
    if secret_key_file is None:
        secret_key_file = str(_data_dir(database_url) / "secret.key")
    return Settings(
        database_url=database_url,
        host=host or env.get("SDWAN_HOST", "127.0.0.1"),
        port=port or int(env.get("SDWAN_PORT", "9998")),
        admin_token=env.get("SDWAN_ADMIN_TOKEN") or None,
        secret_key_file=Path(secret_key_file),
        secret_key=env.get("SDWAN_SECRET_KEY") or None,
        reconcile_interval=reconcile_interval or float(env.get("SDWAN_RECONCILE_INTERVAL", "60")),
        workers=workers or _positive_int(env.get("SDWAN_WORKERS", "8"), "SDWAN_WORKERS"),
        session_ttl=float(env.get("SDWAN_SESSION_TTL", str(12 * 3600))),
        auth_backend=_auth_backend(env.get("SDWAN_AUTH_BACKEND", "builtin")),
        keystone=_keystone(env) if env.get("SDWAN_AUTH_BACKEND") == "keystone" else None,
        api_address_allow=_allowlist(env.get("SDWAN_API_ADDRESS_ALLOW")),
        dev_mode=dev_mode or _flag(env.get("SDWAN_DEV_MODE")),
        api_key_max_ttl=float(env.get("SDWAN_API_KEY_MAX_TTL", str(90 * 86400))),
        trusted_proxies=_proxies(env.get("SDWAN_TRUSTED_PROXIES")),
        gobgpd_ca_file=_path(env.get("SDWAN_GOBGPD_CA_FILE")),
        tls_cert=_path(tls_cert or env.get("SDWAN_TLS_CERT")),
        tls_key=_path(tls_key or env.get("SDWAN_TLS_KEY")),
        max_body_bytes=int(env.get("SDWAN_MAX_BODY_BYTES", str(16 * 1024 * 1024))),
        rib_timeout=float(env.get("SDWAN_RIB_TIMEOUT", "10")),
        rib_per_caller=int(env.get("SDWAN_RIB_CONCURRENCY", "2")),
        plan_max_steps=_positive_int(
            env.get("SDWAN_PLAN_MAX_STEPS", "500000"), "SDWAN_PLAN_MAX_STEPS"
        ),
        sse_max_streams=int(env.get("SDWAN_SSE_MAX_STREAMS", "4")),
        sse_keepalive=float(env.get("SDWAN_SSE_KEEPALIVE", "15")),
        sse_max_age=float(env.get("SDWAN_SSE_MAX_AGE", "0")),
        grpc_timeout=float(env.get("SDWAN_GRPC_TIMEOUT", "5")),
        replica_name=replica_name or env.get("SDWAN_REPLICA_NAME", ""),
        lease_duration=lease_seconds or float(env.get("SDWAN_LEASE_SECONDS", "5")),
        intent_check_interval=float(env.get("SDWAN_INTENT_CHECK_INTERVAL", "10")),
        rollout_settle=_seconds(env.get("SDWAN_ROLLOUT_SETTLE", "2"), "SDWAN_ROLLOUT_SETTLE"),
        log_format=log_format or env.get("SDWAN_LOG_FORMAT", "text"),
        webhook_allow=_webhook_allowlist(env.get("SDWAN_WEBHOOK_ALLOW")),
        webhook_timeout=_seconds(env.get("SDWAN_WEBHOOK_TIMEOUT", "10"), "SDWAN_WEBHOOK_TIMEOUT"),
        path_quality=_flag(env.get("SDWAN_PATH_QUALITY", "1")),
        revision_keep=_positive_int(env.get("SDWAN_REVISION_KEEP", "10000"), "SDWAN_REVISION_KEEP"),
        revision_days=_positive_float(env.get("SDWAN_REVISION_DAYS", "90"), "SDWAN_REVISION_DAYS"),
    )


def _positive_int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number


def _positive_float(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:  # also NaN
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return number


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _words(value: str | None) -> tuple[str, ...]:
    return tuple(w for w in (value or "").replace(",", " ").split() if w)


def _proxies(value: str | None) -> tuple[str, ...]:
    """Addresses or networks of reverse proxies whose X-Forwarded-For is believed."""
    entries = _words(value)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"SDWAN_TRUSTED_PROXIES: {entry!r} is not an address or network"
            ) from None
    return entries


def _allowlist(value: str | None) -> tuple[str, ...]:
    """Comma- or space-separated entries; unset: the documented default."""
    if value is None:
        return DEFAULT_ALLOW
    entries = tuple(e for e in value.replace(",", " ").split() if e)
    try:
        parse_allowlist(entries)
    except ValueError as exc:
        raise ValueError(f"SDWAN_API_ADDRESS_ALLOW: {exc}") from None
    return entries


def _webhook_allowlist(value: str | None) -> tuple[str, ...]:
    """Comma- or space-separated networks (or '*'); unset: this host only."""
    if value is None:
        return DEFAULT_WEBHOOK_ALLOW
    entries = tuple(e for e in value.replace(",", " ").split() if e)
    try:
        parse_webhook_allowlist(entries)
    except ValueError as exc:
        raise ValueError(f"SDWAN_WEBHOOK_ALLOW: {exc}") from None
    return entries


def _seconds(value: str, name: str, *, most: float = 300.0) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= most:
        raise ValueError(f"{name} must be more than 0 and at most {most:g} seconds, got {value!r}")
    return seconds


def _auth_backend(value: str) -> str:
    if value not in ("builtin", "keystone"):
        raise ValueError(f"SDWAN_AUTH_BACKEND must be builtin or keystone, got {value!r}")
    return value


def _keystone(env: Mapping[str, str]) -> KeystoneConfig:
    """SDWAN_KEYSTONE_URL and the service credentials that may validate tokens."""
    missing = [
        name
        for name in ("URL", "USERNAME", "PASSWORD", "PROJECT")
        if not env.get(f"SDWAN_KEYSTONE_{name}")
    ]
    if missing:
        names = ", ".join(f"SDWAN_KEYSTONE_{m}" for m in missing)
        raise ValueError(f"SDWAN_AUTH_BACKEND=keystone needs {names}")
    return KeystoneConfig(
        url=env["SDWAN_KEYSTONE_URL"],
        username=env["SDWAN_KEYSTONE_USERNAME"],
        password=env["SDWAN_KEYSTONE_PASSWORD"],
        project=env["SDWAN_KEYSTONE_PROJECT"],
        user_domain=env.get("SDWAN_KEYSTONE_USER_DOMAIN", "Default"),
        project_domain=env.get("SDWAN_KEYSTONE_PROJECT_DOMAIN", "Default"),
        cache_ttl=_cache_ttl(env.get("SDWAN_KEYSTONE_CACHE_TTL", "30")),
        admin_project_id=env.get("SDWAN_KEYSTONE_ADMIN_PROJECT_ID") or None,
    )


MAX_KEYSTONE_CACHE_TTL = 300.0  # keystonemiddleware's default token_cache_time


def _cache_ttl(value: str) -> float:
    """SDWAN_KEYSTONE_CACHE_TTL: how long a validated Keystone token is believed without
    asking again, so how late a revocation in Keystone is noticed; 0: ask every time."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_KEYSTONE_CACHE_TTL:
        raise ValueError(
            f"SDWAN_KEYSTONE_CACHE_TTL must be 0 to {MAX_KEYSTONE_CACHE_TTL:g} seconds (a "
            f"revoked Keystone token keeps working up to that long), got {value!r}"
        )
    return seconds


def _data_dir(database_url: str) -> Path:
    """Keep the secret key beside an SQLite file; elsewhere in the user's data dir."""
    if database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///")).parent
    path = DEFAULT_DB_PATH.expanduser().parent
    path.mkdir(parents=True, exist_ok=True)
    return path
