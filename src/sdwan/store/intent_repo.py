"""Data access for sites, uplinks and intents: typed records, keyword-only arguments;
callers own the transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    RowMapping,
    Table,
    delete,
    false,
    insert,
    or_,
    select,
    update,
)

from sdwan.store.db import INTENT_SYNC_LOCK, is_postgres, one_at_a_time
from sdwan.store.intent_tables import intent_state, intents, site_routers, sites, uplinks
from sdwan.store.listing import in_project, list_rows, of_project
from sdwan.store.live_repo import last_event_id
from sdwan.store.live_tables import events
from sdwan.store.records import record_of
from sdwan.store.repo import update_versioned
from sdwan.store.tables import routers


@dataclass(frozen=True)
class SiteMember:
    router_uuid: str
    fib_agent: str | None = None
    probe_agent: str | None = None


@dataclass(frozen=True)
class SiteRecord:
    id: str
    project_id: str
    name: str
    prefixes: list[dict[str, Any]]
    next_hop_self: bool
    description: str
    version: int
    created_at: datetime
    updated_at: datetime
    routers: tuple[SiteMember, ...] = ()


@dataclass(frozen=True)
class UplinkRecord:
    id: str
    site_id: str
    name: str
    router_uuid: str
    neighbor_address: str
    transport: str
    cost: int
    bandwidth_mbps: int | None
    description: str
    version: int
    created_at: datetime
    updated_at: datetime
    probe: dict[str, Any] = field(default_factory=dict)  # ProbeSettings; {}: every default


@dataclass(frozen=True)
class IntentRecord:
    id: str
    site_id: str
    name: str
    destination: dict[str, Any]
    prefer: list[list[str]] | str
    return_path: dict[str, Any]
    description: str
    version: int
    created_at: datetime
    updated_at: datetime
    sla_class_id: str | None = None  # the SLA class it steers on (sla_repo)


@dataclass(frozen=True)
class IntentStateRecord:
    intent_id: str
    intent_version: int
    verdict: str
    detail: str
    since: datetime
    checked_at: datetime
    paths: list[dict[str, Any]]


# --- sites ---------------------------------------------------------------------------


def _members(conn: Connection, site_ids: Sequence[str]) -> dict[str, tuple[SiteMember, ...]]:
    found: dict[str, list[SiteMember]] = {i: [] for i in site_ids}
    if site_ids:
        rows = conn.execute(
            select(site_routers)
            .where(site_routers.c.site_id.in_(list(site_ids)))
            .order_by(site_routers.c.position)
        ).mappings()
        for row in rows:
            found[row["site_id"]].append(
                SiteMember(row["router_uuid"], row["fib_agent"], row["probe_agent"])
            )
    return {k: tuple(v) for k, v in found.items()}


def _sites(conn: Connection, rows: Sequence[Any]) -> list[SiteRecord]:
    members = _members(conn, [r["id"] for r in rows])
    return [record_of(SiteRecord, {**r, "routers": members[r["id"]]}) for r in rows]


def insert_site(
    conn: Connection, *, values: Mapping[str, Any], members: Sequence[SiteMember]
) -> None:
    conn.execute(insert(sites), [dict(values)])
    set_members(conn, site_id=values["id"], members=members)


def set_members(conn: Connection, *, site_id: str, members: Sequence[SiteMember]) -> None:
    conn.execute(delete(site_routers).where(site_routers.c.site_id == site_id))
    if members:
        conn.execute(
            insert(site_routers),
            [
                {
                    "site_id": site_id,
                    "router_uuid": m.router_uuid,
                    "position": i,
                    "fib_agent": m.fib_agent,
                    "probe_agent": m.probe_agent,
                }
                for i, m in enumerate(members)
            ],
        )


def get_site(conn: Connection, *, key: str) -> SiteRecord | None:
    """By id or by name."""
    row = conn.execute(select(sites).where(or_(sites.c.id == key, sites.c.name == key))).mappings()
    found = row.first()
    return _sites(conn, [found])[0] if found else None


def sites_by_ids(conn: Connection, *, ids: Sequence[str]) -> dict[str, SiteRecord]:
    if not ids:
        return {}
    rows = conn.execute(select(sites).where(sites.c.id.in_(list(ids)))).mappings().all()
    return {s.id: s for s in _sites(conn, rows)}


def all_site_ids(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(select(sites.c.id).order_by(sites.c.name))]


def site_of_router(conn: Connection, *, router_id: str) -> str | None:
    row = conn.execute(
        select(site_routers.c.site_id).where(site_routers.c.router_uuid == router_id)
    ).first()
    return str(row[0]) if row else None


def sites_by_router_name(conn: Connection) -> dict[str, str]:
    """Router name -> site id, for every router that is in a site."""
    rows = conn.execute(
        select(routers.c.name, site_routers.c.site_id).join(
            site_routers, site_routers.c.router_uuid == routers.c.id
        )
    )
    return {str(r[0]): str(r[1]) for r in rows}


def site_events(
    conn: Connection, *, since: int, limit: int, resource_types: Sequence[str]
) -> tuple[list[RowMapping], int]:
    """Events after id ``since`` that may concern a site: on one of ``resource_types``
    or naming a router that is in a site (the session events of a fleet without sites
    are not read at all). Returns them, oldest first, and the id to read on from."""
    last = last_event_id(conn)
    in_sites = select(routers.c.name).join(site_routers, site_routers.c.router_uuid == routers.c.id)
    query = (
        select(events)
        .where(
            events.c.id > since,
            events.c.id <= last,
            or_(events.c.resource_type.in_(resource_types), events.c.router_name.in_(in_sites)),
        )
        .order_by(events.c.id)
        .limit(limit)
    )
    rows = list(conn.execute(query).mappings().all())
    return rows, (int(rows[-1]["id"]) if len(rows) == limit else last)


def list_sites(
    conn: Connection,
    *,
    project_id: str | None,
    filters: Mapping[str, Any],
    sort: str | None,
    limit: int,
    offset: int,
) -> tuple[list[SiteRecord], int]:
    columns = {"name": sites.c.name, "created_at": sites.c.created_at}
    rows, total = list_rows(
        conn,
        sites,
        filters=filters,
        scope=of_project(sites, project_id),
        sort=sort,
        sortable=columns,
        default_sort="name",
        limit=limit,
        offset=offset,
    )
    return _sites(conn, rows), total


def update_site(
    conn: Connection, *, site_id: str, expected_version: int, values: Mapping[str, Any]
) -> bool:
    return update_versioned(
        conn, sites, row_id=site_id, expected_version=expected_version, values=values
    )


def delete_site(conn: Connection, *, site_id: str, expected_version: int) -> bool:
    """Its members, uplinks, intents and their state go with it (ON DELETE CASCADE;
    removed explicitly too, for connections without foreign keys). False when the site
    no longer has ``expected_version`` (the caller rolls back)."""
    ids = [r[0] for r in conn.execute(select(intents.c.id).where(intents.c.site_id == site_id))]
    if ids:
        conn.execute(delete(intent_state).where(intent_state.c.intent_id.in_(ids)))
    for table in (intents, uplinks, site_routers):
        conn.execute(delete(table).where(table.c.site_id == site_id))
    done = conn.execute(
        delete(sites).where(sites.c.id == site_id, sites.c.version == expected_version)
    )
    return done.rowcount == 1


def lock_for_sync(conn: Connection) -> None:
    """Make this transaction the only one recompiling generated policy until it ends,
    and let its reads from here on see every earlier commit. PostgreSQL: an advisory
    lock. SQLite: the database's write lock, taken now instead of at the first write
    (pysqlite runs a transaction's reads before its first write outside it, each
    seeing the latest commit, like READ COMMITTED)."""
    if is_postgres(conn):
        one_at_a_time(conn, INTENT_SYNC_LOCK)
    else:
        conn.execute(update(sites).values(id=sites.c.id).where(false()))


# --- uplinks and intents (owned by a site) --------------------------------------------


# Callers name the kind by its record class (UplinkRecord, IntentRecord) and get those
# records back; the tables stay here.
SiteOwned = TypeVar("SiteOwned", UplinkRecord, IntentRecord)


def _table(kind: type[UplinkRecord] | type[IntentRecord]) -> Table:
    return uplinks if kind is UplinkRecord else intents


def insert_owned(conn: Connection, kind: type[SiteOwned], *, values: Mapping[str, Any]) -> None:
    conn.execute(insert(_table(kind)), [dict(values)])


def get_owned(conn: Connection, kind: type[SiteOwned], *, owned_id: str) -> SiteOwned | None:
    table = _table(kind)
    row = conn.execute(select(table).where(table.c.id == owned_id)).mappings().first()
    return record_of(kind, row) if row else None


def owned_by_name(
    conn: Connection, kind: type[SiteOwned], *, site_id: str, name: str
) -> SiteOwned | None:
    table = _table(kind)
    row = (
        conn.execute(select(table).where(table.c.site_id == site_id, table.c.name == name))
        .mappings()
        .first()
    )
    return record_of(kind, row) if row else None


def owned_of(conn: Connection, kind: type[SiteOwned], *, site_id: str) -> list[SiteOwned]:
    """The site's rows of a kind, by name."""
    return owned_of_each(conn, kind, site_ids=[site_id])[site_id]


def owned_of_each(
    conn: Connection, kind: type[SiteOwned], *, site_ids: Sequence[str]
) -> dict[str, list[SiteOwned]]:
    """Site id -> its rows of a kind, by name, for a page of sites: one query."""
    found: dict[str, list[SiteOwned]] = {i: [] for i in site_ids}
    table = _table(kind)
    rows = conn.execute(
        select(table).where(table.c.site_id.in_(sorted(found))).order_by(table.c.name)
    ).mappings()
    for row in rows:
        found[row["site_id"]].append(record_of(kind, row))
    return found


def list_owned(
    conn: Connection,
    kind: type[SiteOwned],
    *,
    project_id: str | None,
    filters: Mapping[str, Any],
    sort: str | None,
    limit: int,
    offset: int,
) -> tuple[list[SiteOwned], int]:
    table = _table(kind)
    columns = {"name": table.c.name, "site": table.c.site_id, "created_at": table.c.created_at}
    if kind is UplinkRecord:
        columns["cost"] = table.c.cost
    rows, total = list_rows(
        conn,
        table,
        filters=filters,
        scope=in_project(table.c.site_id, project_id, owners=sites),
        sort=sort,
        sortable=columns,
        default_sort="site,name",
        limit=limit,
        offset=offset,
    )
    return [record_of(kind, r) for r in rows], total


def update_owned(
    conn: Connection,
    kind: type[SiteOwned],
    *,
    owned_id: str,
    expected_version: int,
    values: Mapping[str, Any],
) -> bool:
    return update_versioned(
        conn, _table(kind), row_id=owned_id, expected_version=expected_version, values=values
    )


def delete_owned(
    conn: Connection, kind: type[SiteOwned], *, owned_id: str, expected_version: int
) -> bool:
    """False when the row no longer has ``expected_version`` (the caller rolls back)."""
    if kind is IntentRecord:
        conn.execute(delete(intent_state).where(intent_state.c.intent_id == owned_id))
    table = _table(kind)
    done = conn.execute(
        delete(table).where(table.c.id == owned_id, table.c.version == expected_version)
    )
    return done.rowcount == 1


def uplink_on(conn: Connection, *, router_id: str, address: str) -> UplinkRecord | None:
    row = (
        conn.execute(
            select(uplinks).where(
                uplinks.c.router_uuid == router_id, uplinks.c.neighbor_address == address
            )
        )
        .mappings()
        .first()
    )
    return record_of(UplinkRecord, row) if row else None


def intents_towards(conn: Connection, *, site_id: str) -> list[IntentRecord]:
    """Intents of other sites whose destination is this site."""
    rows = conn.execute(select(intents)).mappings()
    return [
        record_of(IntentRecord, r)
        for r in rows
        if r["destination"].get("site_id") == site_id and r["site_id"] != site_id
    ]


# --- verification state ---------------------------------------------------------------


def states_of(conn: Connection, *, intent_ids: Sequence[str]) -> dict[str, IntentStateRecord]:
    if not intent_ids:
        return {}
    rows = conn.execute(
        select(intent_state).where(intent_state.c.intent_id.in_(list(intent_ids)))
    ).mappings()
    return {r["intent_id"]: record_of(IntentStateRecord, r) for r in rows}


def write_state(conn: Connection, *, state: IntentStateRecord) -> None:
    """Insert or replace; an intent deleted meanwhile is left alone."""
    if conn.execute(select(intents.c.id).where(intents.c.id == state.intent_id)).first() is None:
        return
    conn.execute(delete(intent_state).where(intent_state.c.intent_id == state.intent_id))
    conn.execute(insert(intent_state), [dict(state.__dict__)])
