"""Writing thousands of rows at once (a bulk create, its events and audit rows, a batch
of session rows or status updates) without SQLAlchemy's per-row parameter machinery.

``conn.execute(statement, rows)`` builds and processes a full parameter set per row in
Python (about half the cost of a 10 000-row insert here). ``execute_many`` compiles
the statement once, converts each parameter with the same bind processors SQLAlchemy
would use (dates, JSON, booleans: the stored values are identical), and hands the
driver one executemany. Any dialect: positional (SQLite's qmark) or named (psycopg)
parameters. Small batches go the usual way. The compiled form of a statement is kept
(the live writer inserts the same session and event rows batch after batch: compiling
them again was a sixth of its time)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Delete, Dialect, Insert, Table, Update, insert

_Processor = Callable[[Any], Any] | None
SMALL = 20  # rows; below this the usual way costs no more
_KEPT = 256  # compiled statements kept


@dataclass(frozen=True)
class _Compiled:
    sql: str
    binds: frozenset[str]
    order: list[str]  # the parameters' names in the order the driver takes them
    converters: list[_Processor]  # SQLAlchemy's own bind processors, in that order
    positional: bool


_compiled: WeakKeyDictionary[Dialect, dict[tuple[Any, ...], _Compiled]] = WeakKeyDictionary()


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys, as a bulk create makes them)."""
    if rows:
        execute_many(conn, insert(table), rows, column_keys=list(rows[0]))


def execute_many(
    conn: Connection,
    statement: Insert | Update | Delete,
    rows: Sequence[Mapping[str, Any]],
    *,
    column_keys: list[str] | None = None,
) -> None:
    """``statement`` once per row of ``rows`` (parameters by bind name; every row with
    the same keys). ``column_keys``: for an insert, the columns given."""
    if not rows:
        return
    keys = set(rows[0])
    if len(rows) < SMALL or any(len(row) != len(keys) for row in rows):
        conn.execute(statement, list(rows))
        return
    compiled = _compile(conn.dialect, statement, column_keys)
    if compiled.binds != keys:  # defaults or literals to fill in: the usual way
        conn.execute(statement, list(rows))
        return
    order, converters = compiled.order, compiled.converters
    tuples = [
        tuple(_convert(convert, row[name]) for convert, name in zip(converters, order, strict=True))
        for row in rows
    ]
    if compiled.positional:  # qmark / format: tuples in placeholder order
        conn.exec_driver_sql(compiled.sql, tuples)
    else:  # named parameters (psycopg's pyformat)
        conn.exec_driver_sql(compiled.sql, [dict(zip(order, t, strict=True)) for t in tuples])


def _compile(
    dialect: Dialect, statement: Insert | Update | Delete, column_keys: list[str] | None
) -> _Compiled:
    cache_key = statement._generate_cache_key()  # what SQLAlchemy's own cache keys on
    key = (cache_key.key, tuple(column_keys or ())) if cache_key is not None else None
    kept_here = _compiled.setdefault(dialect, {})
    if key is not None and key in kept_here:
        return kept_here[key]
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    order = list(compiled.positiontup or compiled.binds)
    kept = _Compiled(
        sql=compiled.string,
        binds=frozenset(compiled.binds),
        order=order,
        converters=[compiled.binds[name].type._cached_bind_processor(dialect) for name in order],
        positional=compiled.positiontup is not None,
    )
    if key is not None:
        if len(kept_here) >= _KEPT:
            kept_here.clear()
        kept_here[key] = kept
    return kept


def _convert(processor: _Processor, value: Any) -> Any:
    return value if processor is None else processor(value)
