"""The stored state of any object of the desired state, by kind and id, as the revision
log keeps it: the object's own columns without the reconciler's bookkeeping (status,
conditions, version, times), secrets apart.

An object being deleted (its row, or its router, marked PENDING_DELETE) has no state:
for the desired state it is gone already. A site's state holds its members (the
``routers`` list, in order, as site_routers keeps them). Secret columns (``*_sealed``,
a Fernet token) appear as their field (``password``) with the value ``"set"`` or None;
the token itself is in ``sealed``, for a rollback to give back, never for a reader."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Table, select

from sdwan.domain.status import Status
from sdwan.store import intent_tables, policy_tables
from sdwan.store.resource_tables import audited_tables
from sdwan.store.tables import routers

SET = "set"  # what a reader sees of a secret that is set
BOOKKEEPING = frozenset(
    {"status", "status_detail", "conditions", "version", "created_at", "updated_at"}
)
_SEALED = "_sealed"
_CHUNK = 500  # ids per IN (...)


@dataclass(frozen=True)
class ObjectState:
    values: dict[str, Any]  # column -> value; a secret as its field, "set" or None
    sealed: dict[str, str] = field(default_factory=dict)  # secret field -> token, if set


# the kinds a revision holds, in the order a rollback creates and changes them (what
# is referred to first; fleet/restore.py). SLA classes, alert rules and webhooks are
# audited but not revisions: a rollback cannot write them back.
RECORDED = (
    "router",
    "neighbor",
    "defined_set",
    "policy",
    "policy_attachment",
    "announcement",
    "policyinfo",
    "site",
    "uplink",
    "intent",
)


@functools.cache
def tables() -> dict[str, Table]:
    """Kind (as events name it) -> its table: the recorded resources (the original's
    policyinfo records among them)."""
    known = {**audited_tables(), "policyinfo": policy_tables.policyinfos}
    return {kind: known[kind] for kind in RECORDED}


def kinds() -> frozenset[str]:
    return frozenset(tables())


def states(
    conn: Connection, kind: str, ids: Iterable[str], *, deleting: bool = False
) -> dict[str, ObjectState]:
    """id -> state, for the ids whose object exists and is not being deleted
    (``deleting``: also those being deleted, whose row is still there)."""
    table = tables()[kind]
    rows: list[RowMapping] = []
    for chunk in _chunks(ids):
        rows.extend(conn.execute(select(table).where(table.c.id.in_(chunk))).mappings())
    if not deleting and "router_uuid" in table.c and kind != "uplink":  # gone with its router
        gone = _routers_deleting(conn, {r["router_uuid"] for r in rows})
        rows = [r for r in rows if r["router_uuid"] not in gone]
    found = {
        r["id"]: state_of(r) for r in rows if deleting or r.get("status") != Status.PENDING_DELETE
    }
    if kind == "site":
        for site_id, members in _members(conn, list(found)).items():
            found[site_id].values["routers"] = members
    return found


def complete(kind: str, row: Mapping[str, Any]) -> bool:
    """Whether a row as written holds every column a state has (a row read back would
    not differ): so a bulk create need not read back what it just wrote."""
    return kind != "site" and _columns(kind) <= row.keys()


@functools.cache
def _columns(kind: str) -> frozenset[str]:
    return frozenset(c.name for c in tables()[kind].columns) - BOOKKEEPING


def state_of(row: Mapping[str, Any] | RowMapping) -> ObjectState:
    values: dict[str, Any] = {}
    sealed: dict[str, str] = {}
    for name, value in row.items():
        if name in BOOKKEEPING:
            continue
        if name.endswith(_SEALED):
            secret = name.removesuffix(_SEALED)
            values[secret] = None if value is None else SET
            if value is not None:
                sealed[secret] = value.decode() if isinstance(value, bytes) else str(value)
        elif isinstance(value, datetime):
            values[name] = value.isoformat()
        else:
            values[name] = value
    return ObjectState(values, sealed)


def contents(conn: Connection, kind: str, ident: str) -> dict[str, list[str]]:
    """Kind -> ids of the objects whose state changes when the router or site
    ``ident`` is deleted: a router's neighbors, hand-written policy objects, policyinfo
    records and the site it is in (generated objects follow their intent and are not
    revisions of their own); a site's uplinks and intents."""
    found: dict[str, list[str]] = {}
    if kind == "router":
        for name, table in tables().items():
            if name in ("router", "uplink") or "router_uuid" not in table.c:
                continue
            query = select(table.c.id).where(table.c.router_uuid == ident)
            if "generated_by" in table.c:
                query = query.where(table.c.generated_by.is_(None))
            found[name] = list(conn.execute(query).scalars())
        member = intent_tables.site_routers
        query = select(member.c.site_id).where(member.c.router_uuid == ident)
        found["site"] = list(conn.execute(query).scalars())
    elif kind == "site":
        for name in ("uplink", "intent"):
            table = tables()[name]
            found[name] = list(
                conn.execute(select(table.c.id).where(table.c.site_id == ident)).scalars()
            )
    return {name: ids for name, ids in found.items() if ids}


def _routers_deleting(conn: Connection, ids: set[str]) -> set[str]:
    """Of these router ids, those gone or marked for deletion."""
    alive: set[str] = set()
    for chunk in _chunks(ids):
        query = select(routers.c.id).where(
            routers.c.id.in_(chunk), routers.c.status != Status.PENDING_DELETE
        )
        alive.update(conn.execute(query).scalars())
    return ids - alive


def _members(conn: Connection, site_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    table = intent_tables.site_routers
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in site_ids}
    for chunk in _chunks(site_ids):
        query = select(table).where(table.c.site_id.in_(chunk)).order_by(table.c.position)
        for row in conn.execute(query).mappings():
            member = {k: v for k, v in row.items() if k not in ("site_id", "position")}
            found[row["site_id"]].append(member)
    return found


def _chunks(items: Iterable[str]) -> list[list[str]]:
    ordered = sorted(set(items))
    return [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]
