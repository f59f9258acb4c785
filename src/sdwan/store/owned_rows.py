"""Data access shared by every resource a router owns by name (defined sets,
policies, attachments, announcements): rows are plain dicts, callers own the
transaction."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Table,
    bindparam,
    exists,
    insert,
    literal,
    select,
    union_all,
    update,
)

from sdwan.store.listing import in_project, list_rows
from sdwan.store.repo import now

Row = dict[str, Any]


def insert_rows(conn: Connection, table: Table, *, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), list(rows))


def tables_with_rows(
    conn: Connection, tables: tuple[Table, ...], *, router_id: str
) -> frozenset[str]:
    """The names of those of ``tables`` that hold rows of the router, in one query."""
    return frozenset(conn.execute(_any_rows_of(tables), {"router_id": router_id}).scalars())


@functools.cache
def _any_rows_of(tables: tuple[Table, ...]) -> CompoundSelect[str]:
    return union_all(
        *(
            select(literal(t.name).label("name")).where(
                exists().where(t.c.router_uuid == bindparam("router_id"))
            )
            for t in tables
        )
    )


def get_row(conn: Connection, table: Table, *, row_id: str) -> Row | None:
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    return dict(row) if row else None


def get_by_key(
    conn: Connection, table: Table, *, router_id: str, key_field: str, key: str
) -> Row | None:
    row = (
        conn.execute(
            select(table).where(table.c.router_uuid == router_id, table.c[key_field] == key)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def rows_of_router(conn: Connection, table: Table, *, router_id: str) -> list[Row]:
    rows = conn.execute(select(table).where(table.c.router_uuid == router_id)).mappings()
    return [dict(r) for r in rows]


def list_owned(
    conn: Connection,
    table: Table,
    *,
    filters: Mapping[str, Any],
    sort: str | None,
    sortable: Sequence[str],
    default_sort: str,
    limit: int,
    offset: int,
    project_id: str | None = None,
) -> tuple[list[Row], int]:
    """``project_id``: only rows of that project's routers."""
    where = [table.c[name] == value for name, value in filters.items()]
    if project_id is not None:
        where.append(in_project(table.c.router_uuid, project_id))
    columns = {name: table.c[name] for name in sortable}
    columns["router"] = table.c.router_uuid
    rows, total = list_rows(
        conn,
        table,
        where=where,
        sort=sort,
        sortable=columns,
        default_sort=default_sort,
        limit=limit,
        offset=offset,
    )
    return [dict(r) for r in rows], total


def update_row(
    conn: Connection,
    table: Table,
    *,
    row_id: str,
    expected_version: int,
    values: Mapping[str, Any],
) -> bool:
    result = conn.execute(
        update(table)
        .where(table.c.id == row_id, table.c.version == expected_version)
        .values(**values, version=expected_version + 1, updated_at=now())
    )
    return result.rowcount == 1
