"""Data access for routers and neighbors. Keyword-only arguments; callers own the
transaction (``with engine.begin() as conn``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from sdwan.domain.status import Status
from sdwan.store.bulk import insert_rows
from sdwan.store.listing import in_project, list_rows, of_project
from sdwan.store.policy_tables import POLICY_TABLES
from sdwan.store.records import NeighborRecord, RouterRecord
from sdwan.store.status_rows import ConditionsUpdate, delete_rows, set_statuses_and_conditions
from sdwan.store.tables import neighbors, routers


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


# --- routers -------------------------------------------------------------------------


def insert_routers(conn: Connection, *, rows: Sequence[Mapping[str, Any]]) -> None:
    conn.execute(insert(routers), list(rows))


def get_router(conn: Connection, *, key: str) -> RouterRecord | None:
    """By id or by name."""
    row = (
        conn.execute(select(routers).where(or_(routers.c.id == key, routers.c.name == key)))
        .mappings()
        .first()
    )
    return RouterRecord.from_row(row) if row else None


def get_router_by_name(conn: Connection, *, name: str) -> RouterRecord | None:
    row = conn.execute(select(routers).where(routers.c.name == name)).mappings().first()
    return RouterRecord.from_row(row) if row else None


def router_names_taken(conn: Connection, *, names: Iterable[str]) -> set[str]:
    """Which of ``names`` routers already have."""
    wanted = set(names)
    if not wanted:
        return set()
    query = select(routers.c.name).where(routers.c.name.in_(wanted))
    return set(conn.execute(query).scalars())


def name_taken(conn: Connection, *, name: str, except_id: str = "") -> bool:
    """Whether a router other than ``except_id`` has the name."""
    query = select(routers.c.id).where(routers.c.name == name, routers.c.id != except_id)
    return conn.execute(query).first() is not None


def router_endpoints(conn: Connection) -> list[tuple[str, str, str, str]]:
    """(id, name, project, api_address) of every router, whatever project."""
    query = select(routers.c.id, routers.c.name, routers.c.project_id, routers.c.api_address)
    return [(r.id, r.name, r.project_id, r.api_address) for r in conn.execute(query)]


def get_routers_by_ids(conn: Connection, *, ids: Sequence[str]) -> list[RouterRecord]:
    """In the order of ``ids`` (those that exist), read in chunks of 500."""
    found: dict[str, RouterRecord] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(select(routers).where(routers.c.id.in_(chunk))).mappings()
        found.update((row["id"], RouterRecord.from_row(row)) for row in rows)
    return [found[i] for i in ids if i in found]


def get_routers_by_keys(conn: Connection, *, keys: Iterable[str]) -> dict[str, RouterRecord]:
    """Routers by id or name, keyed by every key that found one."""
    wanted = set(keys)
    rows = (
        conn.execute(
            select(routers).where(or_(routers.c.id.in_(wanted), routers.c.name.in_(wanted)))
        )
        .mappings()
        .all()
    )
    found: dict[str, RouterRecord] = {}
    for row in rows:
        record = RouterRecord.from_row(row)
        for key in (record.id, record.name):
            if key in wanted:
                found[key] = record
    return found


def list_routers(
    conn: Connection,
    *,
    filters: Mapping[str, Any],
    sort: str | None,
    limit: int,
    offset: int,
    project_id: str | None = None,
) -> tuple[list[RouterRecord], int]:
    """``project_id``: only that project's routers."""
    sortable = {
        name: routers.c[name]
        for name in ("name", "router_id", "asn", "api_address", "status", "created_at")
    }
    rows, total = list_rows(
        conn,
        routers,
        filters=filters,
        scope=of_project(routers, project_id),
        sort=sort,
        sortable=sortable,
        default_sort="name",
        limit=limit,
        offset=offset,
    )
    return [RouterRecord.from_row(r) for r in rows], total


def count_routers(conn: Connection, *, project_id: str | None = None) -> int:
    """How many routers there are (in ``project_id`` when given)."""
    query = select(func.count()).select_from(routers)
    if project_id is not None:
        query = query.where(routers.c.project_id == project_id)
    return int(conn.execute(query).scalar_one())


def all_router_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(routers.c.id)).scalars())


def update_router(
    conn: Connection, *, router_id: str, expected_version: int, values: Mapping[str, Any]
) -> bool:
    """Write a desired-state change; False if the version moved meanwhile."""
    return update_versioned(
        conn, routers, row_id=router_id, expected_version=expected_version, values=values
    )


def update_versioned(
    conn: Connection,
    table: Table,
    *,
    row_id: str,
    expected_version: int,
    values: Mapping[str, Any],
) -> bool:
    """Change the row if it still has ``expected_version`` (any versioned table)."""
    result = conn.execute(
        update(table)
        .where(table.c.id == row_id, table.c.version == expected_version)
        .values(**values, version=expected_version + 1, updated_at=now())
    )
    return result.rowcount == 1


def set_router_status(
    conn: Connection,
    *,
    router_id: str,
    version: int | None,
    status: str,
    detail: str,
    conditions: list[list[Any]],
) -> bool:
    """Status and conditions written by the reconciler, in one UPDATE: only for the
    version it applied (None: any version, but never over a deletion asked for since:
    that has a pass of its own)."""
    where = [routers.c.id == router_id]
    if version is not None:
        where.append(routers.c.version == version)
    else:
        where.append(routers.c.status != Status.PENDING_DELETE)
    values = {"status": status, "status_detail": detail, "conditions": conditions}
    result = conn.execute(update(routers).where(*where).values(**values))
    return result.rowcount == 1


def delete_router_row(
    conn: Connection, *, router_id: str, expected_version: int | None = None
) -> bool:
    """The router with everything it owns; with ``expected_version``, only if it still
    has that version (False: it moved, nothing was deleted). The row is locked first
    (PostgreSQL), so a change racing the deletion waits for it and then finds no row."""
    if expected_version is not None:
        query = select(routers.c.version).where(routers.c.id == router_id).with_for_update()
        if conn.execute(query).scalar_one_or_none() != expected_version:
            return False
    for table in POLICY_TABLES:
        conn.execute(delete(table).where(table.c.router_uuid == router_id))
    conn.execute(delete(neighbors).where(neighbors.c.router_uuid == router_id))
    where = [routers.c.id == router_id]
    if expected_version is not None:
        where.append(routers.c.version == expected_version)
    return conn.execute(delete(routers).where(*where)).rowcount == 1


# --- neighbors -----------------------------------------------------------------------


def insert_neighbors(conn: Connection, *, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_rows(conn, neighbors, rows)


def get_neighbor(conn: Connection, *, neighbor_id: str) -> NeighborRecord | None:
    row = conn.execute(select(neighbors).where(neighbors.c.id == neighbor_id)).mappings().first()
    return NeighborRecord.from_row(row) if row else None


def neighbors_of_each(
    conn: Connection, *, router_ids: Sequence[str]
) -> dict[str, list[NeighborRecord]]:
    """Router id -> its neighbors, for many routers: one query."""
    found: dict[str, list[NeighborRecord]] = {i: [] for i in router_ids}
    rows = conn.execute(select(neighbors).where(neighbors.c.router_uuid.in_(sorted(found))))
    for row in rows.mappings():
        found[row["router_uuid"]].append(NeighborRecord.from_row(row))
    return found


def neighbors_of(
    conn: Connection, *, router_id: str, addresses: Iterable[str] | None = None
) -> list[NeighborRecord]:
    where: list[ColumnElement[bool]] = [neighbors.c.router_uuid == router_id]
    if addresses is not None:
        where.append(neighbors.c.address.in_(set(addresses)))
    rows = conn.execute(select(neighbors).where(*where)).mappings().all()
    return [NeighborRecord.from_row(r) for r in rows]


def existing_addresses(
    conn: Connection, *, pairs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (router id, address) pairs already have a neighbor: one query per 500 pairs,
    whatever the number of routers."""
    found: set[tuple[str, str]] = set()
    wanted = sorted(set(pairs))
    key = tuple_(neighbors.c.router_uuid, neighbors.c.address)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = conn.execute(
            select(neighbors.c.router_uuid, neighbors.c.address).where(key.in_(chunk))
        )
        found.update((row.router_uuid, row.address) for row in rows)
    return found


def count_neighbors(conn: Connection, *, router_id: str) -> int:
    query = select(func.count()).select_from(neighbors)
    return int(conn.execute(query.where(neighbors.c.router_uuid == router_id)).scalar_one())


def list_neighbors(
    conn: Connection,
    *,
    filters: Mapping[str, Any],
    sort: str | None,
    limit: int,
    offset: int,
    project_id: str | None = None,
) -> tuple[list[NeighborRecord], int]:
    """``project_id``: only neighbors of that project's routers."""
    sortable = {
        name: neighbors.c[name]
        for name in ("address", "peer_asn", "status", "enabled", "created_at")
    }
    sortable["router"] = neighbors.c.router_uuid
    rows, total = list_rows(
        conn,
        neighbors,
        filters=filters,
        scope=in_project(neighbors.c.router_uuid, project_id),
        sort=sort,
        sortable=sortable,
        default_sort="router,address",
        limit=limit,
        offset=offset,
    )
    return [NeighborRecord.from_row(r) for r in rows], total


def router_names(conn: Connection, *, router_ids: Iterable[str]) -> dict[str, str]:
    rows = conn.execute(
        select(routers.c.id, routers.c.name).where(routers.c.id.in_(set(router_ids)))
    ).all()
    return {row.id: row.name for row in rows}


def update_neighbor(
    conn: Connection, *, neighbor_id: str, expected_version: int, values: Mapping[str, Any]
) -> bool:
    return update_versioned(
        conn, neighbors, row_id=neighbor_id, expected_version=expected_version, values=values
    )


def mark_router_neighbors_deleted(conn: Connection, *, router_id: str, status: str) -> None:
    conn.execute(
        update(neighbors)
        .where(neighbors.c.router_uuid == router_id)
        .values(status=status, version=neighbors.c.version + 1, updated_at=now())
    )


def set_neighbor_statuses(conn: Connection, *, updates: Sequence[ConditionsUpdate]) -> None:
    """(id, version, status, detail, conditions) for each neighbor the reconciler
    handled; a row whose version moved on since the reconciler read it is left alone."""
    set_statuses_and_conditions(conn, neighbors, updates=updates)


def delete_neighbor_rows(conn: Connection, *, ids_versions: Sequence[tuple[str, int]]) -> None:
    delete_rows(conn, neighbors, ids_versions=ids_versions)
