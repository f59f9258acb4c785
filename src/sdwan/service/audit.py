"""The audit log: who changed what, when, from where, with the state before and after
(secrets masked). Rows are written on the connection of the change itself, so an
audited change and its audit row commit or roll back together."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.events.model import Event
from sdwan.service.common import Page
from sdwan.service.uow import reading
from sdwan.service.visibility import asks_other_project
from sdwan.store import audit_repo
from sdwan.store.repo import now

MASK = "***"
_SECRET_PARTS = ("password", "secret", "token", "sealed", "key_hash", "sha256")
# the reconciler's bookkeeping, not what the user changed (conditions: migrations 0015, 0016)
_DROP = {"status", "status_detail", "conditions", "version", "updated_at", "created_at"}

# who is acting, for changes made below the API (set by unit_of_work callers)
current_actor: ContextVar[Principal | None] = ContextVar("sdwan_audit_actor", default=None)


@functools.lru_cache(maxsize=1024)
def _is_secret(name: str) -> bool:
    return any(part in name.lower() for part in _SECRET_PARTS)


_PLAIN = (str, int, float, bool, type(None))
_PLAIN_TYPES = frozenset(_PLAIN)


def mask(value: Any) -> Any:
    """A JSON-safe copy of ``value`` with every secret-looking field replaced by ***
    (null stays null: whether a password is set is not secret)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if _is_secret(name):
                out[name.removesuffix("_sealed")] = None if item is None else MASK
            else:
                out[name] = item if isinstance(item, _PLAIN) else mask(item)
        return out
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return MASK
    return value


def snapshot(row: Any) -> dict[str, Any] | None:
    """A resource row as the audit log keeps it: masked, without bookkeeping. (mask()
    inlined for the top level: a bulk create snapshots thousands of rows.)"""
    if row is None:
        return None
    out: dict[str, Any] = {}
    for key, item in row.items():
        if key in _DROP:
            continue
        if _is_secret(key):
            out[key.removesuffix("_sealed")] = None if item is None else MASK
        else:
            out[key] = item if type(item) in _PLAIN_TYPES else mask(item)
    return out


def record(
    conn: Connection,
    principal: Principal | None,
    *,
    action: str,
    resource_type: str,
    resource_id: str,
    resource_name: str,
    project_id: str | None,
    before: Any = None,  # a mapping (row) or None
    after: Any = None,
) -> None:
    row = audit_row(
        principal,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        resource_name=resource_name,
        project_id=project_id,
        before=snapshot(before),
        after=snapshot(after),
    )
    audit_repo.insert_entries(conn, rows=[row])


def audit_row(
    principal: Principal | None,
    *,
    at: datetime | None = None,
    action: str,
    resource_type: str,
    resource_id: str,
    resource_name: str,
    project_id: str | None,
    before: dict[str, Any] | None,  # snapshots, already masked
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "at": at or now(),
        "actor": principal.name if principal else "system",
        "actor_role": str(principal.role) if principal else "system",
        "source": (principal.source if principal else "")[:64],
        "project_id": project_id,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "resource_name": resource_name[:255],
        "before": before,
        "after": after,
    }


def record_anonymous(conn: Connection, username: str, source: str, *, action: str) -> None:
    """An entry for something an unauthenticated caller did (a failed login, the
    lockout it started): the name it claimed and where it came from. Global (no
    project): admins see it."""
    row = {
        "at": now(),
        "actor": username[:63],
        "actor_role": "anonymous",
        "source": source[:64],
        "project_id": None,
        "action": action,
        "resource_type": "user",
        "resource_id": username[:64],
        "resource_name": username[:255],
        "before": None,
        "after": None,
    }
    audit_repo.insert_entries(conn, rows=[row])


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    project: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def list(
        self, principal: Principal, query: AuditQuery, *, limit: int, offset: int
    ) -> Page[dict[str, Any]]:
        """Newest first. Admins see everything; others only their project's entries."""
        with reading(self._engine) as conn:
            if asks_other_project(principal, query.project):
                return Page([], 0, limit, offset)
            wanted = {
                "actor": query.actor,
                "project_id": principal.project_id or query.project,
                "resource_type": query.resource_type,
                "resource_id": query.resource_id,
                "action": query.action,
            }
            items, count = audit_repo.list_entries(
                conn,
                equal={name: value for name, value in wanted.items() if value is not None},
                since=query.since,
                until=query.until,
                limit=limit,
                offset=offset,
            )
        return Page(items, count, limit, offset)


_ACTIONS = {"resource.created": "create", "resource.updated": "update"}


class ResourceAudit:
    """Audit rows for the resource events services emit inside a unit of work: the
    actor comes from ``current_actor`` (set per request by the API), ``after`` is the
    row as committed, ``before`` the previous audit entry's ``after`` (or, for a
    deletion, the row itself). A bulk change costs a few queries per resource type,
    not a few per item: rows and previous entries are read IN batches of ids, and the
    audit rows inserted with one executemany."""

    def __init__(self) -> None:
        self._types = audit_repo.audited_types()

    def __call__(
        self,
        conn: Connection,
        events: Sequence[Event],
        rows: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """``rows``: rows the caller just wrote, by id (not read back)."""
        actor = current_actor.get()
        audited = [e for e in events if e.resource_type in self._types]
        ids: dict[str, set[str]] = {}
        current: dict[tuple[str, str], dict[str, Any] | None] = {}
        for event in audited:
            given = rows.get(event.resource_id) if rows is not None else None
            if given is not None:
                current[(event.resource_type, event.resource_id)] = snapshot(given)
            else:
                ids.setdefault(event.resource_type, set()).add(event.resource_id)
        last_after: dict[tuple[str, str], Any] = {}
        for kind in {e.resource_type for e in audited}:
            current.update(self._rows(conn, kind, ids.get(kind, set())))
            changed = {
                e.resource_id
                for e in audited
                if e.resource_type == kind and e.kind != _CREATED  # a create has no "before"
            }
            afters = audit_repo.last_afters(conn, resource_type=kind, ids=changed)
            last_after.update({(kind, row_id): after for row_id, after in afters.items()})
        entries = []
        stamp = now()
        for event in audited:
            where = (event.resource_type, event.resource_id)
            action = _ACTIONS.get(event.kind, "delete")
            before = last_after.get(where)
            if action == "delete":
                before, after = before or current.get(where), None
            else:
                after = current.get(where)
            last_after[where] = after  # a later event on it in this batch follows this one
            key = event.data.get("address") or event.data.get("key")
            entries.append(
                audit_row(
                    actor,
                    at=stamp,
                    action=action,
                    resource_type=event.resource_type,
                    resource_id=event.resource_id,
                    resource_name=f"{event.router_name}/{key}" if key else event.router_name,
                    project_id=event.project_id,
                    before=before,
                    after=after,
                )
            )
        audit_repo.insert_entries(conn, rows=entries)

    def _rows(
        self, conn: Connection, kind: str, ids: set[str]
    ) -> dict[tuple[str, str], dict[str, Any] | None]:
        rows = audit_repo.rows_by_id(conn, resource_type=kind, ids=ids)
        return {(kind, row_id): snapshot(row) for row_id, row in rows.items()}


_CREATED = "resource.created"
