"""A private, in-memory copy of the desired state, for work that must run every
write check and then be thrown away (a fleet dry run) without holding SQLite's one
write lock meanwhile: the copy is read in one read transaction (WAL: writers go on),
then the caller writes to the copy only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import StaticPool

from sdwan.store import (
    identity_tables,
    intent_tables,
    live_tables,
    policy_tables,
    quality_tables,
    tables,
)

# what a resource service reads; the rest (tokens, users, the audit log, live state,
# events) starts empty in the copy
DESIRED_STATE = (
    identity_tables.projects,
    tables.routers,
    tables.neighbors,
    *reversed(policy_tables.POLICY_TABLES),
    quality_tables.sla_classes,
    *intent_tables.INTENT_TABLES,
    quality_tables.intent_steering,  # the compiled tiers depend on it
    quality_tables.uplink_quality,  # and a plan's steering decision on this
)
_KEEP_IMPORTS = (live_tables,)  # their tables are part of the schema created below


def sqlite_file(engine: Engine) -> str | None:
    """The database file of an SQLite engine; None for anything else."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return database if database and database != ":memory:" else None


@contextmanager
def desired_state_copy(engine: Engine) -> Iterator[Engine]:
    """An engine over an in-memory database with the whole schema and a copy of the
    desired-state tables of ``engine`` (an SQLite file)."""
    path = sqlite_file(engine)
    if path is None:
        raise ValueError("desired_state_copy needs an SQLite file database")
    copy = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )

    @event.listens_for(copy, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    try:
        tables.metadata.create_all(copy)
        with copy.connect() as conn:  # attached outside a transaction, read only below
            conn.execute(text("ATTACH DATABASE :path AS live"), {"path": path})
            conn.commit()
        with copy.begin() as conn:  # one read transaction: a consistent snapshot
            for table in DESIRED_STATE:
                columns = ", ".join(f'"{c.name}"' for c in table.columns)
                conn.execute(
                    text(
                        f'INSERT INTO main."{table.name}" ({columns}) '
                        f'SELECT {columns} FROM live."{table.name}"'
                    )
                )
        with copy.connect() as conn:
            conn.execute(text("DETACH DATABASE live"))
            conn.commit()
        yield copy
    finally:
        copy.dispose()
