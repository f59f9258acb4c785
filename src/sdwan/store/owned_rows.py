"""Data access shared by every resource a router owns by a key (defined sets,
policies, attachments, announcements), callers owning the transaction. Callers name
the kind by its record class (``DefinedSetRecord``, ...) and get those records back;
the table objects stay in store/."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

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

from sdwan.domain.status import Status
from sdwan.store.listing import in_project, list_rows
from sdwan.store.policy_tables import announcements, defined_sets, policies, policy_attachments
from sdwan.store.records import OWNED_RECORDS, OwnedRecord
from sdwan.store.repo import update_versioned
from sdwan.store.status_rows import ConditionsUpdate, delete_rows, set_statuses_and_conditions

R = TypeVar("R", bound=OwnedRecord)
Kind = type[OwnedRecord]

_TABLES: dict[str, Table] = {
    t.name: t for t in (defined_sets, policies, policy_attachments, announcements)
}
assert {k.TABLE for k in OWNED_RECORDS} == set(_TABLES), "a record kind without its table"
_BY_TABLE: dict[str, Kind] = {k.TABLE: k for k in OWNED_RECORDS}


def _table(kind: Kind) -> Table:
    return _TABLES[kind.TABLE]


def insert_rows(conn: Connection, kind: Kind, *, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(_table(kind)), list(rows))


def kinds_with_rows(conn: Connection, kinds: Iterable[Kind], *, router_id: str) -> frozenset[Kind]:
    """Those of ``kinds`` the router has rows of, in one query."""
    names = tuple(k.TABLE for k in kinds)
    found = conn.execute(_any_rows_of(names), {"router_id": router_id}).scalars()
    return frozenset(_BY_TABLE[name] for name in found)


@functools.cache
def _any_rows_of(tables: tuple[str, ...]) -> CompoundSelect[str]:
    return union_all(
        *(
            select(literal(name).label("name")).where(
                exists().where(_TABLES[name].c.router_uuid == bindparam("router_id"))
            )
            for name in tables
        )
    )


def get_row(conn: Connection, kind: type[R], *, row_id: str) -> R | None:
    table = _table(kind)
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    return kind.from_row(row) if row else None


def get_by_key(conn: Connection, kind: type[R], *, router_id: str, key: str) -> R | None:
    """The router's object whose key (a name, an announcement's prefix) is ``key``."""
    table = _table(kind)
    row = (
        conn.execute(
            select(table).where(table.c.router_uuid == router_id, table.c[kind.KEY] == key)
        )
        .mappings()
        .first()
    )
    return kind.from_row(row) if row else None


def records_of_router(
    conn: Connection, kind: type[R], *, router_id: str, live_only: bool = False
) -> list[R]:
    """All of the router's objects of a kind; ``live_only``: not those being deleted."""
    table = _table(kind)
    query = select(table).where(table.c.router_uuid == router_id)
    if live_only:
        query = query.where(table.c.status != Status.PENDING_DELETE)
    return [kind.from_row(r) for r in conn.execute(query).mappings()]


def generated_of_router(conn: Connection, kind: type[R], *, router_id: str) -> list[R]:
    """The router's objects of a kind that an intent or a site compiled."""
    table = _table(kind)
    query = select(table).where(table.c.router_uuid == router_id, table.c.generated_by.is_not(None))
    return [kind.from_row(r) for r in conn.execute(query).mappings()]


def generated_by(conn: Connection, kind: type[R], *, owners: Sequence[str]) -> list[R]:
    """Every object of a kind that these intents or sites (``"intent:<id>"``) compiled:
    one query whatever their number."""
    table = _table(kind)
    rows = conn.execute(select(table).where(table.c.generated_by.in_(sorted(set(owners)))))
    return [kind.from_row(r) for r in rows.mappings()]


def list_owned(
    conn: Connection,
    kind: type[R],
    *,
    filters: Mapping[str, Any],
    sort: str | None,
    sortable: Sequence[str],
    default_sort: str,
    limit: int,
    offset: int,
    project_id: str | None = None,
) -> tuple[list[R], int]:
    """``project_id``: only rows of that project's routers."""
    table = _table(kind)
    columns = {name: table.c[name] for name in sortable}
    columns["router"] = table.c.router_uuid
    rows, total = list_rows(
        conn,
        table,
        filters=filters,
        scope=in_project(table.c.router_uuid, project_id),
        sort=sort,
        sortable=columns,
        default_sort=default_sort,
        limit=limit,
        offset=offset,
    )
    return [kind.from_row(r) for r in rows], total


def update_row(
    conn: Connection,
    kind: Kind,
    *,
    row_id: str,
    expected_version: int,
    values: Mapping[str, Any],
) -> bool:
    return update_versioned(
        conn, _table(kind), row_id=row_id, expected_version=expected_version, values=values
    )


def write_statuses(
    conn: Connection,
    kind: Kind,
    *,
    updates: Sequence[ConditionsUpdate],
    deleted: Sequence[tuple[str, int]],
) -> None:
    """The reconciler's write-back (store/status_rows.py): statuses and conditions for
    the versions it applied, and the rows gobgpd confirmed gone."""
    set_statuses_and_conditions(conn, _table(kind), updates=updates)
    delete_rows(conn, _table(kind), ids_versions=deleted)
