"""Engine construction and schema migrations, for SQLite (the embedded default) and
PostgreSQL (``postgresql+psycopg://...``: several replicas on one database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text

from sdwan.store.migrations.legacy import restamp

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# PostgreSQL advisory lock keys (one namespace for the whole database)
MIGRATION_LOCK = 0x5D3A_0001  # replicas starting together migrate one after another
BOOTSTRAP_LOCK = 0x5D3A_0003  # ... and store the bootstrap admin token one at a time
INTENT_SYNC_LOCK = 0x5D3A_0004  # generated policy rows are recompiled one sync at a time
REVISIONS_LOCK = 0x5D3A_0005  # revision numbers are handed out in commit order
# held for as long as a replica evaluates alert rules / delivers webhooks (one at a time)
ALERTS_LEADER_LOCK = 0x5D3A_0010
WEBHOOKS_LEADER_LOCK = 0x5D3A_0011
ROLLOUTS_LEADER_LOCK = 0x5D3A_0012  # ... drives the rollouts
POSTGRES_PREFIXES = ("postgresql://", "postgresql+psycopg://", "postgres://")


def is_postgres_url(url: str) -> bool:
    return url.startswith(POSTGRES_PREFIXES)


def is_postgres(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` (libpq spellings) mean psycopg 3 here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str, *, durable: bool = True) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and, when ``durable``, an
    fsync per commit, so an acknowledged change survives even a power loss. Writers of
    derived state (status, live session state: recomputed from gobgpd after a crash)
    use ``durable=False``: their commits survive a crash of the process, skip the
    fsync, and so hold the write lock for less time. On PostgreSQL the same choice is
    ``synchronous_commit``: on for the API's changes and the leases, off for derived
    state."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        synchronous = "FULL" if durable else "NORMAL"

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    url = normalize_url(url)
    if is_postgres_url(url):
        options = "-c synchronous_commit=" + ("on" if durable else "off")
        return create_engine(
            url,
            pool_pre_ping=True,  # a connection PostgreSQL dropped (restart) is replaced
            pool_size=10,
            max_overflow=20,
            pool_timeout=10,  # then the API answers 503 instead of waiting on
            connect_args={"connect_timeout": 5, "application_name": "sdwan", "options": options},
        )
    return create_engine(url, pool_pre_ping=True)


def one_at_a_time(conn: Connection, key: int) -> None:
    """PostgreSQL: wait until no other transaction holds ``key`` (released at commit).
    SQLite has one writer at a time anyway."""
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic, scripts in store/migrations: one
    linear chain). A database stamped by the old tree of migrations is restamped onto
    the chain first (migrations/legacy.py). On PostgreSQL the whole upgrade is one
    transaction under an advisory lock: replicas started at the same moment migrate
    one after another, and all but the first find nothing left to do."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        one_at_a_time(connection, MIGRATION_LOCK)
        restamp(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"
