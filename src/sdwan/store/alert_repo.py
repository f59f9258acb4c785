"""Data access for alert rules and alerts (migration 0013): typed records,
keyword-only arguments; callers own the transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from sdwan.domain.alerts import AlertState
from sdwan.store.alert_tables import alert_rules, alerts
from sdwan.store.listing import project_rows
from sdwan.store.live_tables import events
from sdwan.store.records import record_of
from sdwan.store.repo import update_versioned


@dataclass(frozen=True)
class AlertRuleRecord:
    id: str
    project_id: str
    name: str
    kind: str
    threshold: float
    severity: str
    scope: dict[str, str]
    labels: dict[str, str]
    enabled: bool
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AlertRecord:
    id: str
    project_id: str
    rule_id: str
    rule_name: str
    kind: str
    severity: str
    subject: str
    subject_name: str
    router_name: str
    labels: dict[str, str]
    detail: str
    state: str
    since: datetime
    fired_at: datetime
    resolved_at: datetime | None
    updated_at: datetime


def open_key(rule_id: str, subject: str) -> str:
    return f"{rule_id} {subject}"


# --- rules ---------------------------------------------------------------------------


def insert_rule(conn: Connection, *, values: Mapping[str, Any]) -> None:
    conn.execute(insert(alert_rules).values(**values))


def get_rule(conn: Connection, *, rule_id: str) -> AlertRuleRecord | None:
    row = conn.execute(select(alert_rules).where(alert_rules.c.id == rule_id)).mappings().first()
    return record_of(AlertRuleRecord, row) if row else None


def rule_named(conn: Connection, *, project_id: str, name: str) -> AlertRuleRecord | None:
    row = (
        conn.execute(
            select(alert_rules).where(
                alert_rules.c.project_id == project_id, alert_rules.c.name == name
            )
        )
        .mappings()
        .first()
    )
    return record_of(AlertRuleRecord, row) if row else None


def list_rules(
    conn: Connection,
    *,
    project_id: str | None,
    filters: Mapping[str, Any],
    sort: str | None,
    limit: int,
    offset: int,
) -> tuple[list[AlertRuleRecord], int]:
    columns = {
        "name": alert_rules.c.name,
        "kind": alert_rules.c.kind,
        "severity": alert_rules.c.severity,
        "created_at": alert_rules.c.created_at,
    }
    rows, total = project_rows(
        conn,
        alert_rules,
        project_id=project_id,
        filters=filters,
        sort=sort,
        sortable=columns,
        default_sort="name",
        limit=limit,
        offset=offset,
    )
    return [record_of(AlertRuleRecord, r) for r in rows], total


def enabled_rules(conn: Connection) -> list[AlertRuleRecord]:
    """Every project's enabled rules: what the alert controller evaluates."""
    rows = conn.execute(
        select(alert_rules).where(alert_rules.c.enabled.is_(True)).order_by(alert_rules.c.id)
    ).mappings()
    return [record_of(AlertRuleRecord, r) for r in rows]


def update_rule(
    conn: Connection, *, rule_id: str, expected_version: int, values: Mapping[str, Any]
) -> bool:
    return update_versioned(
        conn, alert_rules, row_id=rule_id, expected_version=expected_version, values=values
    )


def delete_rule(conn: Connection, *, rule_id: str, expected_version: int) -> bool:
    """The rule's alerts stay (history); the controller resolves those still firing."""
    done = conn.execute(
        delete(alert_rules).where(
            alert_rules.c.id == rule_id, alert_rules.c.version == expected_version
        )
    )
    return done.rowcount == 1


# --- alerts --------------------------------------------------------------------------


def get_alert(conn: Connection, *, alert_id: str) -> AlertRecord | None:
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).mappings().first()
    return record_of(AlertRecord, row) if row else None


def list_alerts(
    conn: Connection,
    *,
    project_id: str | None,
    filters: Mapping[str, Any],
    sort: str | None,
    limit: int,
    offset: int,
) -> tuple[list[AlertRecord], int]:
    """``filters`` by column: state, severity, kind, rule_name, router_name."""
    columns = {
        "fired_at": alerts.c.fired_at,
        "since": alerts.c.since,
        "updated_at": alerts.c.updated_at,
        "severity": alerts.c.severity,
        "rule_name": alerts.c.rule_name,
        "state": alerts.c.state,
    }
    rows, total = project_rows(
        conn,
        alerts,
        project_id=project_id,
        filters=filters,
        sort=sort,
        sortable=columns,
        default_sort="-fired_at",
        limit=limit,
        offset=offset,
    )
    return [record_of(AlertRecord, r) for r in rows], total


def firing(conn: Connection) -> list[AlertRecord]:
    """Every alert still firing, of every rule."""
    rows = conn.execute(select(alerts).where(alerts.c.state == AlertState.FIRING)).mappings()
    return [record_of(AlertRecord, r) for r in rows]


def insert_firing(conn: Connection, *, values: Mapping[str, Any]) -> bool:
    """A new firing alert; False (and nothing written) when the pair (rule, subject)
    has one open already, written by another replica meanwhile."""
    row = {
        **values,
        "state": AlertState.FIRING,
        "open_key": open_key(values["rule_id"], values["subject"]),
    }
    try:
        with conn.begin_nested():
            conn.execute(insert(alerts).values(**row))
    except IntegrityError:
        return False
    return True


def resolve(conn: Connection, *, alert_id: str, at: datetime) -> AlertRecord | None:
    """The alert as resolved, if it was still firing (None otherwise)."""
    done = conn.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.state == AlertState.FIRING)
        .values(state=AlertState.RESOLVED, resolved_at=at, updated_at=at, open_key=None)
    )
    return get_alert(conn, alert_id=alert_id) if done.rowcount == 1 else None


def prune_resolved(conn: Connection, *, older_than: datetime, keep: int) -> int:
    """Drop resolved alerts resolved before ``older_than``, and all but the newest
    ``keep`` resolved ones; firing alerts stay."""
    resolved = alerts.c.state == AlertState.RESOLVED
    gone = conn.execute(delete(alerts).where(resolved, alerts.c.resolved_at < older_than))
    count = int(gone.rowcount or 0)
    total = int(conn.execute(select(func.count()).select_from(alerts).where(resolved)).scalar_one())
    if total > keep:
        oldest = (
            select(alerts.c.id)
            .where(resolved)
            .order_by(alerts.c.resolved_at)
            .limit(total - keep)
            .scalar_subquery()
        )
        extra = conn.execute(delete(alerts).where(alerts.c.id.in_(oldest)))
        count += int(extra.rowcount or 0)
    return count


def rules_by_ids(conn: Connection, *, ids: Sequence[str]) -> dict[str, AlertRuleRecord]:
    if not ids:
        return {}
    rows = conn.execute(select(alert_rules).where(alert_rules.c.id.in_(list(ids)))).mappings()
    return {r["id"]: record_of(AlertRuleRecord, r) for r in rows}


def event_kinds_since(
    conn: Connection, *, since: int, limit: int
) -> tuple[list[tuple[str, str]], int]:
    """(kind, resource type) of the events after id ``since``, oldest first, and the
    id to read on from: what wakes the alert controller, without the events' data."""
    last = int(conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())
    query = (
        select(events.c.id, events.c.kind, events.c.resource_type)
        .where(events.c.id > since, events.c.id <= last)
        .order_by(events.c.id)
        .limit(limit)
    )
    rows = conn.execute(query).all()
    return [(r.kind, r.resource_type) for r in rows], (
        int(rows[-1].id) if len(rows) == limit else last
    )
