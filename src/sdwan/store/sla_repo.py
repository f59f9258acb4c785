"""Data access for SLA classes (``sla_classes``, migration 0012): typed records,
keyword-only arguments; callers own the transaction. A class belongs to a project and
is named once in it; intents refer to it by id (``intents.sla_class_id``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, insert, or_, select

from sdwan.store.intent_tables import intents, sites
from sdwan.store.listing import list_rows, of_project
from sdwan.store.quality_tables import sla_classes
from sdwan.store.records import record_of
from sdwan.store.repo import update_versioned


@dataclass(frozen=True)
class SlaClassRecord:
    id: str
    project_id: str
    name: str
    loss_pct: float | None  # None: not constrained
    latency_ms: float | None  # round-trip time
    jitter_ms: float | None
    hold_down_s: float
    min_interval_s: float
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


def insert_class(conn: Connection, *, values: Mapping[str, Any]) -> None:
    conn.execute(insert(sla_classes), [dict(values)])


def get_class(conn: Connection, *, class_id: str) -> SlaClassRecord | None:
    row = conn.execute(select(sla_classes).where(sla_classes.c.id == class_id)).mappings().first()
    return record_of(SlaClassRecord, row) if row else None


def find_classes(conn: Connection, *, key: str, project_id: str | None) -> list[SlaClassRecord]:
    """The classes ``key`` names: its id, or its name (in ``project_id``; None: in any
    project, so an admin may find several), by project."""
    where: list[ColumnElement[bool]] = [or_(sla_classes.c.id == key, sla_classes.c.name == key)]
    if project_id is not None:
        where.append(sla_classes.c.project_id == project_id)
    rows = conn.execute(
        select(sla_classes).where(*where).order_by(sla_classes.c.project_id)
    ).mappings()
    found = [record_of(SlaClassRecord, r) for r in rows]
    by_id = [c for c in found if c.id == key]
    return by_id or found


def classes_by_ids(conn: Connection, *, ids: Sequence[str]) -> dict[str, SlaClassRecord]:
    if not ids:
        return {}
    rows = conn.execute(select(sla_classes).where(sla_classes.c.id.in_(list(ids)))).mappings()
    return {r["id"]: record_of(SlaClassRecord, r) for r in rows}


def list_classes(
    conn: Connection,
    *,
    project_id: str | None,
    filters: Mapping[str, Any],
    sort: str | None,
    limit: int,
    offset: int,
) -> tuple[list[SlaClassRecord], int]:
    columns = {
        "name": sla_classes.c.name,
        "project": sla_classes.c.project_id,
        "created_at": sla_classes.c.created_at,
        "loss_pct": sla_classes.c.loss_pct,
        "latency_ms": sla_classes.c.latency_ms,
        "jitter_ms": sla_classes.c.jitter_ms,
    }
    rows, total = list_rows(
        conn,
        sla_classes,
        filters=filters,
        scope=of_project(sla_classes, project_id),
        sort=sort,
        sortable=columns,
        default_sort="name,project",
        limit=limit,
        offset=offset,
    )
    return [record_of(SlaClassRecord, r) for r in rows], total


def update_class(
    conn: Connection, *, class_id: str, expected_version: int, values: Mapping[str, Any]
) -> bool:
    return update_versioned(
        conn, sla_classes, row_id=class_id, expected_version=expected_version, values=values
    )


def delete_class(conn: Connection, *, class_id: str, expected_version: int) -> bool:
    """False when the class no longer has ``expected_version`` (the caller rolls back).
    An intent still naming it makes the database refuse (IntegrityError)."""
    done = conn.execute(
        delete(sla_classes).where(
            sla_classes.c.id == class_id, sla_classes.c.version == expected_version
        )
    )
    return done.rowcount == 1


def users_of(conn: Connection, *, class_ids: Sequence[str]) -> dict[str, list[str]]:
    """Class id -> the intents naming it, as ``site/intent``, sorted."""
    found: dict[str, list[str]] = {i: [] for i in class_ids}
    if not class_ids:
        return found
    rows = conn.execute(
        select(intents.c.sla_class_id, sites.c.name, intents.c.name)
        .join(sites, sites.c.id == intents.c.site_id)
        .where(intents.c.sla_class_id.in_(list(class_ids)))
        .order_by(sites.c.name, intents.c.name)
    )
    for class_id, site, intent in rows:
        found[class_id].append(f"{site}/{intent}")
    return found
