"""Data access for observed state: neighbor sessions, router reachability, events.
Keyword-only arguments; callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, insert, select, update

from sdwan.domain.session import SessionRecord
from sdwan.store.bulk import execute_many, insert_rows
from sdwan.store.live_tables import events, neighbor_live, router_live
from sdwan.store.tables import neighbors, routers

# --- sessions ------------------------------------------------------------------------


def neighbor_ids(
    conn: Connection, *, router_id: str, addresses: Iterable[str] | None = None
) -> dict[str, str]:
    """address -> neighbor id, for one router (only ``addresses``, when given)."""
    query = select(neighbors.c.address, neighbors.c.id).where(neighbors.c.router_uuid == router_id)
    if addresses is not None:
        query = query.where(neighbors.c.address.in_(set(addresses)))
    return {row.address: row.id for row in conn.execute(query).all()}


def session_records(conn: Connection, *, router_id: str) -> dict[str, SessionRecord]:
    """neighbor id -> live session record, for one router."""
    rows = conn.execute(select(neighbor_live).where(neighbor_live.c.router_uuid == router_id))
    return {row["neighbor_id"]: _session_record(row) for row in rows.mappings()}


def _session_record(row: RowMapping) -> SessionRecord:
    return SessionRecord(
        state=row["session_state"],
        admin_down=row["admin_down"],
        established_at=row["established_at"],
        state_since=row["state_since"],
        last_down_at=row["last_down_at"],
        last_down_reason=row["last_down_reason"],
        flap_count=row["flap_count"],
        prefixes_received=row["prefixes_received"],
        prefixes_accepted=row["prefixes_accepted"],
        remote_router_id=row["remote_router_id"],
    )


def session_row(record: SessionRecord) -> dict[str, Any]:
    """The neighbor_live columns that hold ``record``."""
    return {
        "session_state": record.state,
        "admin_down": record.admin_down,
        "established_at": record.established_at,
        "state_since": record.state_since,
        "last_down_at": record.last_down_at,
        "last_down_reason": record.last_down_reason,
        "flap_count": record.flap_count,
        "prefixes_received": record.prefixes_received,
        "prefixes_accepted": record.prefixes_accepted,
        "remote_router_id": record.remote_router_id,
    }


def write_sessions(
    conn: Connection, *, inserts: Sequence[Mapping[str, Any]], updates: Sequence[Mapping[str, Any]]
) -> None:
    """Rows keyed by ``neighbor_id``; ``updates`` for rows that exist."""
    insert_rows(conn, neighbor_live, inserts)
    if updates:
        columns = [c for c in updates[0] if c != "neighbor_id"]
        execute_many(
            conn,
            update(neighbor_live)
            .where(neighbor_live.c.neighbor_id == bindparam("b_neighbor_id"))
            .values({c: bindparam(f"b_{c}") for c in columns}),
            [{f"b_{k}": v for k, v in row.items()} for row in updates],
        )


def existing_neighbors(conn: Connection, *, ids: Iterable[str]) -> set[str]:
    wanted = set(ids)
    if not wanted:
        return set()
    return set(conn.execute(select(neighbors.c.id).where(neighbors.c.id.in_(wanted))).scalars())


def sessions_by_id(conn: Connection, *, ids: Iterable[str]) -> dict[str, RowMapping]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = conn.execute(select(neighbor_live).where(neighbor_live.c.neighbor_id.in_(wanted)))
    return {row["neighbor_id"]: row for row in rows.mappings()}


def session_counts(conn: Connection) -> list[tuple[str, str, int, int]]:
    """(router name, session state, sessions, prefixes received) for metrics."""
    query = (
        select(
            routers.c.name,
            neighbor_live.c.session_state,
            func.count(),
            func.coalesce(func.sum(neighbor_live.c.prefixes_received), 0),
        )
        .join(routers, routers.c.id == neighbor_live.c.router_uuid)
        .group_by(routers.c.name, neighbor_live.c.session_state)
    )
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in conn.execute(query).all()]


# --- routers -------------------------------------------------------------------------


def router_lives(conn: Connection, *, ids: Iterable[str] | None = None) -> dict[str, RowMapping]:
    query = select(router_live)
    if ids is not None:
        query = query.where(router_live.c.router_uuid.in_(set(ids)))
    return {row["router_uuid"]: row for row in conn.execute(query).mappings()}


def write_router_live(conn: Connection, *, router_id: str, values: Mapping[str, Any]) -> None:
    exists = conn.execute(
        select(router_live.c.router_uuid).where(router_live.c.router_uuid == router_id)
    ).first()
    if exists:
        conn.execute(
            update(router_live).where(router_live.c.router_uuid == router_id).values(**values)
        )
    elif conn.execute(select(routers.c.id).where(routers.c.id == router_id)).first():
        conn.execute(insert(router_live).values(router_uuid=router_id, **values))


def router_identities(conn: Connection, *, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """router id -> (name, project id), for the routers of ``ids`` that exist."""
    rows = conn.execute(
        select(routers.c.id, routers.c.name, routers.c.project_id).where(routers.c.id.in_(set(ids)))
    ).all()
    return {row.id: (row.name, row.project_id) for row in rows}


def router_names(conn: Connection, *, project_id: str) -> set[str]:
    """The names of a project's routers (metrics are labelled by router name)."""
    query = select(routers.c.name).where(routers.c.project_id == project_id)
    return {r[0] for r in conn.execute(query).all()}


def router_reachability(conn: Connection) -> list[tuple[str, bool]]:
    query = select(routers.c.name, router_live.c.reachable).join(
        routers, routers.c.id == router_live.c.router_uuid
    )
    return [(r[0], bool(r[1])) for r in conn.execute(query).all()]


# --- events --------------------------------------------------------------------------


def insert_events(conn: Connection, *, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_rows(conn, events, rows)


def read_events(
    conn: Connection,
    *,
    since: int | None,
    limit: int,
    project_id: str | None = None,
    router_name: str | None = None,
    kind: str | None = None,
) -> list[RowMapping]:
    """Events after id ``since`` (None: the newest ``limit``), oldest first. ``kind``
    matches a prefix ("session.")."""
    where = [events.c.id > (since or 0)]
    if project_id is not None:
        where.append(events.c.project_id == project_id)
    if router_name is not None:
        where.append(events.c.router_name == router_name)
    if kind is not None:
        where.append(events.c.kind.startswith(kind, autoescape=True))
    if since is None:
        newest = select(events).where(*where).order_by(events.c.id.desc()).limit(limit)
        return list(reversed(conn.execute(newest).mappings().all()))
    query = select(events).where(*where).order_by(events.c.id).limit(limit)
    return list(conn.execute(query).mappings().all())


def last_event_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())


def prune_events(conn: Connection, *, keep: int, older_than: datetime) -> int:
    """Drop events older than ``older_than`` and all but the newest ``keep``."""
    last = last_event_id(conn)
    result = conn.execute(
        delete(events).where((events.c.id <= last - keep) | (events.c.time < older_than))
    )
    return int(result.rowcount or 0)
