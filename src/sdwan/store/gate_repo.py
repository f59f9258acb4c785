"""Data access for a rollout's health gate: each neighbor's desired state beside the
live view of its session, and the objects of some routers not yet applied. Keyword-only
arguments; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, select

from sdwan.domain.session import UNKNOWN
from sdwan.domain.status import Status
from sdwan.store.live_tables import neighbor_live
from sdwan.store.policy_tables import announcements, defined_sets, policies, policy_attachments
from sdwan.store.tables import neighbors, routers

# what an operator calls each kind, its table, and the column that names one object
_KINDS: tuple[tuple[str, Table, str], ...] = (
    ("neighbor", neighbors, "address"),
    ("defined set", defined_sets, "name"),
    ("policy", policies, "name"),
    ("policy attachment", policy_attachments, "name"),
    ("announcement", announcements, "prefix"),
)


@dataclass(frozen=True)
class NeighborSession:
    id: str
    router_id: str
    address: str
    enabled: bool
    state: str  # the live view's session state; UNKNOWN without a live row


@dataclass(frozen=True)
class Unapplied:
    kind: str  # router, neighbor, defined set, policy, policy attachment, announcement
    key: str  # the object's name (a neighbor's address, an announcement's prefix)
    router: str  # the router's name
    status: str
    detail: str


def neighbor_sessions(conn: Connection, *, router_ids: Sequence[str]) -> list[NeighborSession]:
    """The routers' neighbors not being deleted, each with its live session state."""
    if not router_ids:
        return []
    query = (
        select(
            neighbors.c.id,
            neighbors.c.router_uuid,
            neighbors.c.address,
            neighbors.c.enabled,
            neighbor_live.c.session_state,
        )
        .outerjoin(neighbor_live, neighbor_live.c.neighbor_id == neighbors.c.id)
        .where(
            neighbors.c.router_uuid.in_(list(router_ids)),
            neighbors.c.status != Status.PENDING_DELETE,
        )
    )
    return [
        NeighborSession(i, r, address, bool(enabled), state or UNKNOWN)
        for i, r, address, enabled, state in conn.execute(query)
    ]


def unapplied(conn: Connection, *, router_ids: Sequence[str]) -> list[Unapplied]:
    """The routers and their objects whose status is not ACTIVE (pending or in error),
    routers first, then by kind, router name and key."""
    ids = list(router_ids)
    if not ids:
        return []
    query_names = select(routers.c.id, routers.c.name).where(routers.c.id.in_(ids))
    names = {str(i): str(n) for i, n in conn.execute(query_names)}
    mine = select(routers.c.name, routers.c.status, routers.c.status_detail).where(
        routers.c.id.in_(ids), routers.c.status != Status.ACTIVE
    )
    found = [
        Unapplied("router", name, name, status, detail)
        for name, status, detail in conn.execute(mine.order_by(routers.c.name))
    ]
    for kind, table, key in _KINDS:
        query = select(
            table.c.router_uuid, table.c[key], table.c.status, table.c.status_detail
        ).where(table.c.router_uuid.in_(ids), table.c.status != Status.ACTIVE)
        rows = [
            Unapplied(kind, str(ident), names.get(owner, owner), status, detail)
            for owner, ident, status, detail in conn.execute(query)
        ]
        found.extend(sorted(rows, key=lambda u: (u.router, u.key)))
    return found
