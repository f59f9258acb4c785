"""The audit log: who changed what, when, from where, with the state before and after
(secrets masked). Rows are written on the connection of the change itself, so an
audited change and its audit row commit or roll back together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from sdwan.auth.principal import Principal
from sdwan.events.model import Event
from sdwan.service.common import Page
from sdwan.service.uow import reading
from sdwan.store.identity_tables import audit_log
from sdwan.store.repo import now

MASK = "***"
_SECRET_PARTS = ("password", "secret", "token", "sealed", "key_hash", "sha256")
_DROP = {"status", "status_detail", "version", "updated_at", "created_at"}

# who is acting, for changes made below the API (set by unit_of_work callers)
current_actor: ContextVar[Principal | None] = ContextVar("sdwan_audit_actor", default=None)


def _is_secret(name: str) -> bool:
    return any(part in name.lower() for part in _SECRET_PARTS)


def mask(value: Any) -> Any:
    """A JSON-safe copy of ``value`` with every secret-looking field replaced by ***
    (null stays null: whether a password is set is not secret)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).removesuffix("_sealed")
            if _is_secret(str(key)):
                out[name] = None if item is None else MASK
            else:
                out[name] = mask(item)
        return out
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return MASK
    return value


def snapshot(row: Any) -> dict[str, Any] | None:
    """A resource row as the audit log keeps it: masked, without bookkeeping."""
    if row is None:
        return None
    result = mask({k: v for k, v in dict(row).items() if k not in _DROP})
    assert isinstance(result, dict)
    return result


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
    conn.execute(
        insert(audit_log).values(
            at=now(),
            actor=principal.name if principal else "system",
            actor_role=str(principal.role) if principal else "system",
            source=(principal.source if principal else "")[:64],
            project_id=project_id,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            resource_name=resource_name[:255],
            before=snapshot(before),
            after=snapshot(after),
        )
    )


def record_anonymous(conn: Connection, username: str, source: str, *, action: str) -> None:
    """An entry for something an unauthenticated caller did (a failed login, the
    lockout it started): the name it claimed and where it came from. Global (no
    project): admins see it."""
    conn.execute(
        insert(audit_log).values(
            at=now(),
            actor=username[:63],
            actor_role="anonymous",
            source=source[:64],
            project_id=None,
            action=action,
            resource_type="user",
            resource_id=username[:64],
            resource_name=username[:255],
            before=None,
            after=None,
        )
    )


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
        where = []
        if principal.project_id is not None:
            where.append(audit_log.c.project_id == principal.project_id)
        for column, value in (
            (audit_log.c.actor, query.actor),
            (audit_log.c.project_id, query.project),
            (audit_log.c.resource_type, query.resource_type),
            (audit_log.c.resource_id, query.resource_id),
            (audit_log.c.action, query.action),
        ):
            if value is not None:
                where.append(column == value)
        if query.since is not None:
            where.append(audit_log.c.at >= query.since)
        if query.until is not None:
            where.append(audit_log.c.at < query.until)
        with reading(self._engine) as conn:
            total = conn.execute(select(func.count()).select_from(audit_log).where(*where))
            count = int(total.scalar_one())
            rows = conn.execute(
                select(audit_log)
                .where(*where)
                .order_by(audit_log.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).mappings()
            items = [dict(row) for row in rows]
        return Page(items, count, limit, offset)


_ACTIONS = {"resource.created": "create", "resource.updated": "update"}


class ResourceAudit:
    """Audit rows for the resource events services emit inside a unit of work: the
    actor comes from ``current_actor`` (set per request by the API), ``after`` is the
    row as committed, ``before`` the previous audit entry's ``after`` (or, for a
    deletion, the row itself)."""

    def __init__(self, tables: Mapping[str, Any]) -> None:
        self._tables = tables  # resource_type -> Table with an "id" column

    def __call__(self, conn: Connection, events: Sequence[Event]) -> None:
        actor = current_actor.get()
        for event in events:
            table = self._tables.get(event.resource_type)
            if table is None:
                continue
            row = conn.execute(select(table).where(table.c.id == event.resource_id))
            current = row.mappings().first()
            action = _ACTIONS.get(event.kind, "delete")
            before = self._last_after(conn, event.resource_type, event.resource_id)
            if action == "delete":
                before, after = before or snapshot(current), None
            else:
                after = snapshot(current)
            key = event.data.get("address") or event.data.get("key")
            name = f"{event.router_name}/{key}" if key else event.router_name
            record(
                conn,
                actor,
                action=action,
                resource_type=event.resource_type,
                resource_id=event.resource_id,
                resource_name=name,
                project_id=event.project_id,
                before=before,
                after=after,
            )

    def _last_after(self, conn: Connection, kind: str, resource_id: str) -> Any:
        query = (
            select(audit_log.c.after)
            .where(audit_log.c.resource_type == kind, audit_log.c.resource_id == resource_id)
            .order_by(audit_log.c.id.desc())
            .limit(1)
        )
        return conn.execute(query).scalar()
