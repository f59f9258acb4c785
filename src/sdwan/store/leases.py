"""Replicas and router leases in PostgreSQL (the tables of store/cluster_tables.py).

Every time here is the database's clock (``now()``), never a replica's: replicas on
different machines agree on who is alive and which lease expired even when their own
clocks do not. A lease row names its holder by *instance* (one per process), not by
replica name, so a replica restarted under the same name never inherits leases its
previous process might still act on. ``token`` grows by one at every acquisition:
the fencing token that guards status writes (``holds``).

Keyword-only arguments; callers own the transaction. PostgreSQL only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from sdwan.store.cluster_tables import replicas, router_leases
from sdwan.store.tables import routers


def _seconds(value: float) -> Any:
    return literal(timedelta(seconds=value))


def _age(column: Any) -> Any:
    return func.extract("epoch", func.now() - column)


# --- replicas --------------------------------------------------------------------------


def register(
    conn: Connection,
    *,
    name: str,
    instance: str,
    address: str,
    version: str,
    stale_after: float,
) -> float | None:
    """Claim ``name`` for this instance. None when done; else the heartbeat age in
    seconds of the live instance that holds the name."""
    stmt = pg_insert(replicas).values(
        name=name,
        instance=instance,
        address=address,
        version=version,
        started_at=func.now(),
        heartbeat_at=func.now(),
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[replicas.c.name],
        set_={
            "instance": stmt.excluded.instance,
            "address": stmt.excluded.address,
            "version": stmt.excluded.version,
            "started_at": func.now(),
            "heartbeat_at": func.now(),
        },
        where=or_(
            replicas.c.instance == stmt.excluded.instance,
            replicas.c.heartbeat_at < func.now() - _seconds(stale_after),
        ),
    ).returning(replicas.c.name)
    if conn.execute(upsert).first() is not None:
        return None
    age = conn.execute(select(_age(replicas.c.heartbeat_at)).where(replicas.c.name == name))
    return float(age.scalar_one())


def heartbeat(conn: Connection, *, name: str, instance: str) -> bool:
    """False when the name is no longer this instance's (it was taken over as dead)."""
    result = conn.execute(
        update(replicas)
        .where(replicas.c.name == name, replicas.c.instance == instance)
        .values(heartbeat_at=func.now())
    )
    return result.rowcount == 1


def leave(conn: Connection, *, name: str, instance: str) -> None:
    conn.execute(delete(replicas).where(replicas.c.name == name, replicas.c.instance == instance))


def forget_dead(conn: Connection, *, older_than: float) -> int:
    """Drop replicas whose last heartbeat is older than ``older_than`` seconds."""
    result = conn.execute(
        delete(replicas).where(replicas.c.heartbeat_at < func.now() - _seconds(older_than))
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class ReplicaRow:
    name: str
    address: str
    version: str
    started_at: Any
    heartbeat_age: float  # seconds since its last heartbeat (the database's clock)
    routers: int  # routers it holds a valid lease on


def list_replicas(conn: Connection) -> list[ReplicaRow]:
    held = (
        select(router_leases.c.holder, func.count().label("routers"))
        .where(router_leases.c.expires_at > func.now())
        .group_by(router_leases.c.holder)
        .subquery()
    )
    query = (
        select(
            replicas.c.name,
            replicas.c.address,
            replicas.c.version,
            replicas.c.started_at,
            _age(replicas.c.heartbeat_at).label("age"),
            func.coalesce(held.c.routers, 0).label("routers"),
        )
        .outerjoin(held, held.c.holder == replicas.c.instance)
        .order_by(replicas.c.name)
    )
    return [
        ReplicaRow(r.name, r.address, r.version, r.started_at, float(r.age), int(r.routers))
        for r in conn.execute(query).all()
    ]


# --- the cluster as one replica sees it -------------------------------------------------


@dataclass(frozen=True)
class LeaseRow:
    holder: str | None  # instance
    valid: bool  # held and not expired


@dataclass(frozen=True)
class ClusterView:
    live: list[str]  # names of replicas with a heartbeat younger than the lease
    routers: list[str]  # every router id
    leases: dict[str, LeaseRow]  # by router id


def view(conn: Connection, *, lease: float) -> ClusterView:
    live = conn.execute(
        select(replicas.c.name).where(replicas.c.heartbeat_at > func.now() - _seconds(lease))
    ).scalars()
    router_ids = conn.execute(select(routers.c.id)).scalars()
    rows = conn.execute(
        select(
            router_leases.c.router_uuid,
            router_leases.c.holder,
            (router_leases.c.expires_at > func.now()).label("valid"),
        )
    ).all()
    return ClusterView(
        live=sorted(live),
        routers=sorted(router_ids),
        leases={
            r.router_uuid: LeaseRow(r.holder, bool(r.valid and r.holder is not None)) for r in rows
        },
    )


# --- leases ------------------------------------------------------------------------------


def acquire(
    conn: Connection, *, router_ids: Iterable[str], instance: str, name: str, lease: float
) -> dict[str, int]:
    """Take the leases of these routers that are free, expired, or ours already (a
    lease that lapsed here is taken again, with a new token). Returns router -> token
    of those taken; routers that do not exist (any more) are skipped."""
    wanted = sorted(set(router_ids))
    if not wanted:
        return {}
    # wait for the status writes still running under the leases we take over (they
    # hold a key-share lock on the row until they commit: see holds()); in id order,
    # as every acquirer does
    conn.execute(
        select(router_leases.c.router_uuid)
        .where(router_leases.c.router_uuid.in_(wanted))
        .order_by(router_leases.c.router_uuid)
        .with_for_update()
    )
    source = select(
        routers.c.id,
        literal(instance),
        literal(name),
        literal(1),
        func.now(),
        func.now() + _seconds(lease),
    ).where(routers.c.id.in_(wanted))
    columns = ["router_uuid", "holder", "holder_name", "token", "acquired_at", "expires_at"]
    stmt = pg_insert(router_leases).from_select(columns, source)
    upsert = stmt.on_conflict_do_update(
        index_elements=[router_leases.c.router_uuid],
        set_={
            "holder": stmt.excluded.holder,
            "holder_name": stmt.excluded.holder_name,
            "token": router_leases.c.token + 1,
            "acquired_at": func.now(),
            "expires_at": stmt.excluded.expires_at,
        },
        where=or_(
            router_leases.c.holder.is_(None),
            router_leases.c.expires_at <= func.now(),
            router_leases.c.holder == stmt.excluded.holder,
        ),
    ).returning(router_leases.c.router_uuid, router_leases.c.token)
    return {row.router_uuid: int(row.token) for row in conn.execute(upsert).all()}


def renew(
    conn: Connection, *, router_ids: Iterable[str], instance: str, lease: float
) -> dict[str, int]:
    """Extend these leases if this instance still holds them; router -> token."""
    wanted = sorted(set(router_ids))
    if not wanted:
        return {}
    stmt = (
        update(router_leases)
        .where(router_leases.c.holder == instance, router_leases.c.router_uuid.in_(wanted))
        .values(expires_at=func.now() + _seconds(lease))
        .returning(router_leases.c.router_uuid, router_leases.c.token)
    )
    return {row.router_uuid: int(row.token) for row in conn.execute(stmt).all()}


def release(conn: Connection, *, instance: str, tokens: Mapping[str, int]) -> None:
    """Give these leases up (only where the token is still ours), at once free."""
    if not tokens:
        return
    conn.execute(
        update(router_leases)
        .where(
            router_leases.c.router_uuid == bindparam("b_router"),
            router_leases.c.holder == instance,
            router_leases.c.token == bindparam("b_token"),
        )
        .values(holder=None, holder_name=None, expires_at=func.now()),
        [{"b_router": r, "b_token": t} for r, t in tokens.items()],
    )


def holds(conn: Connection, *, router_id: str, instance: str, token: int) -> bool:
    """The fence of a status write: this instance still holds the router's lease with
    this token, unexpired. The row stays key-share-locked until the caller's commit: a
    takeover (which locks the row FOR UPDATE first, see acquire()) waits for that
    commit, so what a stale holder wrote lands before the new holder's first read,
    never after it; renewals and releases (plain updates) do not wait for it, so the
    lease thread never deadlocks with the store writer."""
    query = (
        select(router_leases.c.router_uuid)
        .where(
            and_(
                router_leases.c.router_uuid == router_id,
                router_leases.c.holder == instance,
                router_leases.c.token == token,
                router_leases.c.expires_at > func.now(),
            )
        )
        .with_for_update(read=True, key_share=True)
    )
    return conn.execute(query).first() is not None


def owners(conn: Connection, *, router_ids: Iterable[str]) -> dict[str, str]:
    """router id -> name of the replica holding a valid lease on it."""
    wanted = set(router_ids)
    if not wanted:
        return {}
    rows = conn.execute(
        select(router_leases.c.router_uuid, router_leases.c.holder_name).where(
            router_leases.c.router_uuid.in_(wanted),
            router_leases.c.holder.is_not(None),
            router_leases.c.expires_at > func.now(),
        )
    ).all()
    return {row.router_uuid: row.holder_name for row in rows}
