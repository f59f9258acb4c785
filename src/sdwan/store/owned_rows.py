"""Data access shared by every resource a router owns by name (defined sets,
policies, attachments, announcements), callers owning the transaction. All of a
router's rows of a kind are read as OwnedRecords; single rows and pages are still
plain dicts (the services and routes built on them take dicts). Callers name the
table (``"defined_sets"``, ``"policies"``, ``"policy_attachments"``,
``"announcements"``): the table objects stay in store/."""

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
)

from sdwan.store.listing import in_project, list_rows
from sdwan.store.policy_tables import announcements, defined_sets, policies, policy_attachments
from sdwan.store.records import OwnedRecord
from sdwan.store.repo import update_versioned
from sdwan.store.status_rows import ConditionsUpdate, delete_rows, set_statuses_and_conditions

Row = dict[str, Any]
OWNED_TABLES: dict[str, Table] = {
    t.name: t for t in (defined_sets, policies, policy_attachments, announcements)
}


def insert_rows(conn: Connection, table: str, *, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(OWNED_TABLES[table]), list(rows))


def tables_with_rows(
    conn: Connection, tables: tuple[str, ...], *, router_id: str
) -> frozenset[str]:
    """The names of those of ``tables`` that hold rows of the router, in one query."""
    return frozenset(conn.execute(_any_rows_of(tables), {"router_id": router_id}).scalars())


@functools.cache
def _any_rows_of(tables: tuple[str, ...]) -> CompoundSelect[str]:
    return union_all(
        *(
            select(literal(name).label("name")).where(
                exists().where(OWNED_TABLES[name].c.router_uuid == bindparam("router_id"))
            )
            for name in tables
        )
    )


def get_row(conn: Connection, name: str, *, row_id: str) -> Row | None:
    table = OWNED_TABLES[name]
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    return dict(row) if row else None


def get_by_key(
    conn: Connection, name: str, *, router_id: str, key_field: str, key: str
) -> Row | None:
    table = OWNED_TABLES[name]
    row = (
        conn.execute(
            select(table).where(table.c.router_uuid == router_id, table.c[key_field] == key)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def records_of_router(conn: Connection, name: str, *, router_id: str) -> list[OwnedRecord]:
    table = OWNED_TABLES[name]
    rows = conn.execute(select(table).where(table.c.router_uuid == router_id)).mappings()
    return [OwnedRecord.from_row(r) for r in rows]


def list_owned(
    conn: Connection,
    table_name: str,
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
    table = OWNED_TABLES[table_name]
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
    name: str,
    *,
    row_id: str,
    expected_version: int,
    values: Mapping[str, Any],
) -> bool:
    return update_versioned(
        conn, OWNED_TABLES[name], row_id=row_id, expected_version=expected_version, values=values
    )


def write_statuses(
    conn: Connection,
    name: str,
    *,
    updates: Sequence[ConditionsUpdate],
    deleted: Sequence[tuple[str, int]],
) -> None:
    """The reconciler's write-back (store/status_rows.py): statuses and conditions for
    the versions it applied, and the rows gobgpd confirmed gone."""
    set_statuses_and_conditions(conn, OWNED_TABLES[name], updates=updates)
    delete_rows(conn, OWNED_TABLES[name], ids_versions=deleted)
