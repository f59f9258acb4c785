"""The tables the code declares (store/*_tables.py) are exactly what the migrations
build: a column, index or key missing on either side is caught here, before a
database made by ``migrate`` surprises a query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sdwan.store.db import make_engine, migrate, sqlite_url
from sdwan.store.tables import metadata


def differences(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": False}
            )
            return [d for d in compare_metadata(context, metadata) if not _ignored(d)]
    finally:
        engine.dispose()


def _ignored(diff: Any) -> bool:
    """Alembic's own bookkeeping table is not ours."""
    return (
        isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"
    )


def test_a_migrated_sqlite_database_has_the_declared_schema(tmp_path: Path) -> None:
    assert differences(sqlite_url(tmp_path / "s.db")) == []


def test_a_migrated_postgresql_database_has_the_declared_schema(pg_url: str) -> None:
    assert differences(pg_url) == []
