"""Inserting thousands of rows at once (a bulk create, its events and audit rows, a
batch of session rows) without SQLAlchemy's per-row parameter machinery.

``conn.execute(insert(t), rows)`` builds and processes a full parameter set per row
in Python (about half the cost of a 10 000-row insert here). This compiles the
statement once, converts each column with the same bind processors SQLAlchemy
would use (dates, JSON, booleans: so the stored values are identical), and hands the
driver one executemany. Works for any dialect: positional (SQLite's qmark) or named
(psycopg) parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert

_Processor = Callable[[Any], Any] | None


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys, as a bulk create makes them)."""
    if not rows:
        return
    keys = list(rows[0])
    if len(rows) < 20 or any(len(row) != len(keys) for row in rows):
        conn.execute(insert(table), list(rows))  # small or ragged: the usual way
        return
    dialect = conn.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    if set(compiled.binds) != set(keys):  # defaults of other columns to fill: the usual way
        conn.execute(insert(table), list(rows))
        return
    # the processors SQLAlchemy itself applies (TypeDecorators included), once per column
    processors: dict[str, _Processor] = {
        key: table.c[key].type._cached_bind_processor(dialect) for key in keys
    }
    order = list(compiled.positiontup or keys)
    converters = [processors[name] for name in order]
    tuples = [
        tuple(_convert(convert, row[name]) for convert, name in zip(converters, order, strict=True))
        for row in rows
    ]
    if compiled.positiontup is not None:  # qmark / format: tuples in placeholder order
        conn.exec_driver_sql(compiled.string, tuples)
    else:  # named parameters (psycopg's pyformat)
        conn.exec_driver_sql(compiled.string, [dict(zip(order, t, strict=True)) for t in tuples])


def _convert(processor: _Processor, value: Any) -> Any:
    return value if processor is None else processor(value)
