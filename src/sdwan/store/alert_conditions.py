"""What holds now for each kind of alert rule, read from the store: the subjects whose
condition holds within a rule's project and scope, each with since when
(domain/alerts.Holding). One query per rule, over the rows that are in trouble (sessions
not Established, unreachable routers, intents not verified, ...), never the fleet.

Times come from the rows: when a session went down, when a router stopped answering,
since when an intent has its verdict, the agent's time of an SLA class's violation, a
replica's last heartbeat (the database's clock)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, func, literal, select

from sdwan.domain.alerts import (
    DRIFT_WINDOW,
    AlertKind,
    Holding,
    repairs_over,
    session_down_since,
    violated_classes,
)
from sdwan.domain.session import ESTABLISHED
from sdwan.domain.status import Status
from sdwan.store.cluster_tables import replicas
from sdwan.store.intent_tables import intent_state, intents, site_routers, sites, uplinks
from sdwan.store.live_tables import events, neighbor_live, router_live
from sdwan.store.quality_tables import uplink_quality
from sdwan.store.tables import neighbors, routers

Scope = Mapping[str, str]
_TROUBLED_VERDICTS = ("DEGRADED", "VIOLATED")


def _router_scope(query: Select[Any], scope: Scope) -> Select[Any]:
    """Limit a query joined with ``routers`` to the scope's router and site."""
    if scope.get("router"):
        query = query.where(routers.c.name == scope["router"])
    if scope.get("site"):
        members = (
            select(site_routers.c.router_uuid)
            .join(sites, sites.c.id == site_routers.c.site_id)
            .where(sites.c.name == scope["site"])
        )
        query = query.where(routers.c.id.in_(members))
    return query


def sessions_down(conn: Connection, project: str, scope: Scope, now: datetime) -> list[Holding]:
    query = (
        select(
            neighbor_live.c.neighbor_id,
            neighbor_live.c.session_state,
            neighbor_live.c.last_down_at,
            neighbor_live.c.last_down_reason,
            neighbors.c.address,
            neighbors.c.created_at,
            routers.c.name,
        )
        .join(neighbors, neighbors.c.id == neighbor_live.c.neighbor_id)
        .join(routers, routers.c.id == neighbors.c.router_uuid)
        .where(
            routers.c.project_id == project,
            neighbor_live.c.session_state != ESTABLISHED,
            neighbor_live.c.admin_down.is_(False),
            neighbors.c.enabled.is_(True),
            neighbors.c.status != Status.PENDING_DELETE,
        )
    )
    found = []
    for row in conn.execute(_router_scope(query, scope)):
        reason = f": {row.last_down_reason}" if row.last_down_reason else ""
        found.append(
            Holding(
                f"neighbor:{row.neighbor_id}",
                f"{row.name}/{row.address}",
                session_down_since(row.last_down_at, row.created_at),
                f"session {row.name}/{row.address} is {row.session_state}{reason}",
                {"router": row.name, "neighbor": row.address},
                router_name=row.name,
            )
        )
    return found


def routers_unreachable(
    conn: Connection, project: str, scope: Scope, now: datetime
) -> list[Holding]:
    query = (
        select(
            router_live.c.router_uuid,
            router_live.c.reachable_since,
            router_live.c.last_error,
            routers.c.name,
        )
        .join(routers, routers.c.id == router_live.c.router_uuid)
        .where(
            routers.c.project_id == project,
            router_live.c.reachable.is_(False),
            routers.c.status != Status.PENDING_DELETE,
        )
    )
    return [
        Holding(
            f"router:{row.router_uuid}",
            row.name,
            row.reachable_since,
            f"gobgpd of router {row.name} does not answer: {row.last_error}",
            {"router": row.name},
            router_name=row.name,
        )
        for row in conn.execute(_router_scope(query, scope))
    ]


def intents_troubled(conn: Connection, project: str, scope: Scope, now: datetime) -> list[Holding]:
    query = (
        select(
            intent_state.c.intent_id,
            intent_state.c.verdict,
            intent_state.c.detail,
            intent_state.c.since,
            intents.c.name,
            sites.c.name.label("site"),
        )
        .join(intents, intents.c.id == intent_state.c.intent_id)
        .join(sites, sites.c.id == intents.c.site_id)
        .where(sites.c.project_id == project, intent_state.c.verdict.in_(_TROUBLED_VERDICTS))
    )
    if scope.get("site"):
        query = query.where(sites.c.name == scope["site"])
    if scope.get("intent"):
        query = query.where(intents.c.name == scope["intent"])
    return [
        Holding(
            f"intent:{row.intent_id}",
            f"{row.site}/{row.name}",
            row.since,
            f"intent {row.site}/{row.name} is {row.verdict}: {row.detail}"[:2000],
            {"site": row.site, "intent": row.name},
        )
        for row in conn.execute(query)
    ]


def uplinks_violating(conn: Connection, project: str, scope: Scope, now: datetime) -> list[Holding]:
    query = (
        select(
            uplink_quality.c.uplink_id,
            uplink_quality.c.classes,
            uplinks.c.name,
            sites.c.name.label("site"),
        )
        .join(uplinks, uplinks.c.id == uplink_quality.c.uplink_id)
        .join(sites, sites.c.id == uplinks.c.site_id)
        .where(sites.c.project_id == project)
    )
    if scope.get("site"):
        query = query.where(sites.c.name == scope["site"])
    if scope.get("uplink"):
        query = query.where(uplinks.c.name == scope["uplink"])
    found = []
    for row in conn.execute(query):
        classes = row.classes if isinstance(row.classes, Mapping) else {}
        for name, since, reason in violated_classes(classes):
            label = f"{row.site}/{row.name}"
            found.append(
                Holding(
                    f"uplink:{row.uplink_id}:{name}",
                    f"{label} ({name})",
                    min(since, now),  # the agent's clock may run ahead of ours
                    f"uplink {label} violates SLA class {name}" + (f": {reason}" if reason else ""),
                    {"site": row.site, "uplink": row.name, "sla_class": name},
                )
            )
    return found


def replicas_lost(conn: Connection, lease: float, now: datetime) -> list[Holding]:
    """Replicas whose heartbeat is older than the lease (by the database's clock) and
    that have not been forgotten yet. Empty with SQLite (one process, no replicas)."""
    if conn.dialect.name != "postgresql":
        return []
    age = func.extract("epoch", func.now() - replicas.c.heartbeat_at)
    query = select(replicas.c.name, replicas.c.address, age.label("age")).where(
        replicas.c.heartbeat_at < func.now() - literal(timedelta(seconds=lease))
    )
    return [
        Holding(
            f"replica:{row.name}",
            row.name,
            now - timedelta(seconds=float(row.age) - lease),
            f"replica {row.name} ({row.address}) has not been heard from for "
            f"{float(row.age):.0f} s",
            {"replica": row.name},
        )
        for row in conn.execute(query)
    ]


def drift_repaired(
    conn: Connection, project: str, scope: Scope, now: datetime, limit: int, event_kind: str
) -> list[Holding]:
    """Routers whose drift was repaired more than ``limit`` times in the last hour
    (events of ``event_kind``, ``drift.repaired``: indexed by kind and time)."""
    query = (
        select(events.c.resource_id, events.c.router_name, events.c.time)
        .join(routers, routers.c.id == events.c.resource_id)
        .where(
            events.c.kind == event_kind,
            events.c.time > now - DRIFT_WINDOW,
            events.c.project_id == project,
        )
    )
    times: dict[tuple[str, str], list[datetime]] = {}
    for row in conn.execute(_router_scope(query, scope)):
        times.setdefault((row.resource_id, row.router_name), []).append(row.time)
    found = []
    for (router_id, name), stamps in sorted(times.items()):
        over = repairs_over(stamps, limit, now)
        if over is None:
            continue
        since, clears = over
        found.append(
            Holding(
                f"router:{router_id}",
                name,
                since,
                f"router {name}: drift repaired {len(stamps)} times in the last hour "
                f"(more than {limit})",
                {"router": name},
                router_name=name,
                clears_at=clears,
            )
        )
    return found


Reader = Callable[[Connection, str, Scope, datetime], list[Holding]]
READERS: dict[AlertKind, Reader] = {
    AlertKind.SESSION_DOWN: sessions_down,
    AlertKind.ROUTER_UNREACHABLE: routers_unreachable,
    AlertKind.INTENT_DEGRADED: intents_troubled,
    AlertKind.UPLINK_SLA: uplinks_violating,
}


def holding(
    conn: Connection,
    *,
    kind: AlertKind,
    project: str,
    scope: Scope,
    threshold: float,
    lease: float,
    now: datetime,
    repaired_kind: str,
) -> list[Holding]:
    """The subjects of a rule of ``kind`` whose condition holds at ``now``;
    ``repaired_kind``: the kind of the events that say a drift was repaired."""
    if kind is AlertKind.REPLICA_LOST:
        return replicas_lost(conn, lease, now)
    if kind is AlertKind.DRIFT_REPAIRS:
        return drift_repaired(conn, project, scope, now, int(threshold), repaired_kind)
    return READERS[kind](conn, project, scope, now)
