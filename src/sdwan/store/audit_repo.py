"""Data access for the audit log: keyword-only arguments; callers own the transaction
(an audit row commits or rolls back with the change it describes)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func, select

from sdwan.store.bulk import insert_rows
from sdwan.store.identity_tables import audit_log
from sdwan.store.resource_tables import audited_tables

_CHUNK = 500  # ids per IN (...): well under SQLite's bound-parameter limit


def _chunks(items: Iterable[str]) -> list[list[str]]:
    ordered = sorted(items)
    return [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]


def insert_entries(conn: Connection, *, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_rows(conn, audit_log, rows)


def list_entries(
    conn: Connection,
    *,
    equal: Mapping[str, str],
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first: the entries whose columns named in ``equal`` have those values,
    at or after ``since`` and before ``until``; and how many match in all."""
    where: list[ColumnElement[bool]] = [audit_log.c[name] == value for name, value in equal.items()]
    if since is not None:
        where.append(audit_log.c.at >= since)
    if until is not None:
        where.append(audit_log.c.at < until)
    total = conn.execute(select(func.count()).select_from(audit_log).where(*where))
    count = int(total.scalar_one())
    rows = conn.execute(
        select(audit_log).where(*where).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return [dict(row) for row in rows], count


@functools.cache
def _audited() -> dict[str, Table]:
    return audited_tables()


def audited_types() -> frozenset[str]:
    """The resource types (as events name them) whose changes the audit log snapshots."""
    return frozenset(_audited())


def rows_by_id(conn: Connection, *, resource_type: str, ids: Iterable[str]) -> dict[str, Any]:
    """id -> the resource's row (a mapping), for the ids that exist, read in batches."""
    table = _audited()[resource_type]
    found: dict[str, Any] = {}
    for chunk in _chunks(ids):
        for row in conn.execute(select(table).where(table.c.id.in_(chunk))).mappings():
            found[row["id"]] = row
    return found


def last_afters(conn: Connection, *, resource_type: str, ids: Iterable[str]) -> dict[str, Any]:
    """resource id -> the ``after`` of its newest audit entry (index ix_audit_log_resource)."""
    found: dict[str, Any] = {}
    for chunk in _chunks(ids):
        newest = (
            select(func.max(audit_log.c.id))
            .where(audit_log.c.resource_type == resource_type, audit_log.c.resource_id.in_(chunk))
            .group_by(audit_log.c.resource_id)
        )
        rows = conn.execute(
            select(audit_log.c.resource_id, audit_log.c.after).where(audit_log.c.id.in_(newest))
        )
        for resource_id, after in rows:
            found[resource_id] = after
    return found
