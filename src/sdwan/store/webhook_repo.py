"""Data access for webhooks (migration 0013): the hooks, their queues of deliveries
(``webhook_outbox``, in id order per hook), their delivery logs, and how far the
dispatcher has read the event log (``sdwan_settings`` key ``webhooks.cursor``).
Typed records, keyword-only arguments; callers own the transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from sdwan.store.alert_tables import webhook_deliveries, webhook_outbox, webhooks
from sdwan.store.cluster_tables import settings_kv
from sdwan.store.listing import list_rows, project_rows
from sdwan.store.records import record_of
from sdwan.store.repo import now, update_versioned

CURSOR_KEY = "webhooks.cursor"


@dataclass(frozen=True)
class WebhookRecord:
    id: str
    project_id: str
    name: str
    url: str
    format: str
    filter: dict[str, Any]
    secret_sealed: bytes
    enabled: bool
    description: str
    start_event_id: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OutboxItem:
    id: int
    webhook_id: str
    event_id: int
    event_kind: str
    body: bytes
    created_at: datetime
    attempts: int
    next_attempt_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    webhook_id: str
    delivery: int
    event_id: int
    event_kind: str
    at: datetime
    attempt: int
    outcome: str  # delivered | failed | dropped
    status_code: int | None
    error: str
    duration_ms: float
    response: str


# --- hooks ---------------------------------------------------------------------------


def insert_hook(conn: Connection, *, values: Mapping[str, Any]) -> None:
    conn.execute(insert(webhooks).values(**values))


def get_hook(conn: Connection, *, webhook_id: str) -> WebhookRecord | None:
    row = conn.execute(select(webhooks).where(webhooks.c.id == webhook_id)).mappings().first()
    return record_of(WebhookRecord, row) if row else None


def hook_named(conn: Connection, *, project_id: str, name: str) -> WebhookRecord | None:
    query = select(webhooks).where(webhooks.c.project_id == project_id, webhooks.c.name == name)
    row = conn.execute(query).mappings().first()
    return record_of(WebhookRecord, row) if row else None


def list_hooks(
    conn: Connection,
    *,
    project_id: str | None,
    filters: Mapping[str, Any],
    sort: str | None,
    limit: int,
    offset: int,
) -> tuple[list[WebhookRecord], int]:
    rows, total = project_rows(
        conn,
        webhooks,
        project_id=project_id,
        filters=filters,
        sort=sort,
        sortable={"name": webhooks.c.name, "created_at": webhooks.c.created_at},
        default_sort="name",
        limit=limit,
        offset=offset,
    )
    return [record_of(WebhookRecord, r) for r in rows], total


def enabled_hooks(conn: Connection) -> list[WebhookRecord]:
    rows = conn.execute(select(webhooks).where(webhooks.c.enabled.is_(True))).mappings()
    return [record_of(WebhookRecord, r) for r in rows]


def hooks_by_ids(conn: Connection, *, ids: Sequence[str]) -> dict[str, WebhookRecord]:
    if not ids:
        return {}
    rows = conn.execute(select(webhooks).where(webhooks.c.id.in_(list(ids)))).mappings()
    return {r["id"]: record_of(WebhookRecord, r) for r in rows}


def update_hook(
    conn: Connection, *, webhook_id: str, expected_version: int, values: Mapping[str, Any]
) -> bool:
    return update_versioned(
        conn, webhooks, row_id=webhook_id, expected_version=expected_version, values=values
    )


def delete_hook(conn: Connection, *, webhook_id: str, expected_version: int) -> bool:
    """Its queue and delivery log go with it."""
    for table in (webhook_outbox, webhook_deliveries):
        conn.execute(delete(table).where(table.c.webhook_id == webhook_id))
    done = conn.execute(
        delete(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.version == expected_version)
    )
    return done.rowcount == 1


# --- the cursor over the event log ----------------------------------------------------


def get_cursor(conn: Connection) -> int | None:
    value = conn.execute(select(settings_kv.c.value).where(settings_kv.c.key == CURSOR_KEY))
    text = value.scalar()
    return int(text) if text is not None else None


def set_cursor(conn: Connection, *, event_id: int) -> None:
    values = {"value": str(event_id), "updated_at": now()}
    done = conn.execute(update(settings_kv).where(settings_kv.c.key == CURSOR_KEY).values(values))
    if done.rowcount == 0:
        conn.execute(insert(settings_kv).values(key=CURSOR_KEY, **values))


# --- queues --------------------------------------------------------------------------


def enqueue(conn: Connection, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Deliveries to make: webhook_id, event_id, event_kind, body (in the order given)."""
    if not rows:
        return
    stamp = now()
    conn.execute(
        insert(webhook_outbox),
        [{**r, "created_at": stamp, "attempts": 0, "next_attempt_at": stamp} for r in rows],
    )


def queued_hooks(conn: Connection) -> dict[str, int]:
    """Hook id -> deliveries waiting, for hooks with any."""
    query = select(webhook_outbox.c.webhook_id, func.count()).group_by(webhook_outbox.c.webhook_id)
    return {row[0]: int(row[1]) for row in conn.execute(query)}


def head(conn: Connection, *, webhook_id: str) -> OutboxItem | None:
    """The next delivery of a hook: its oldest."""
    query = (
        select(webhook_outbox)
        .where(webhook_outbox.c.webhook_id == webhook_id)
        .order_by(webhook_outbox.c.id)
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return record_of(OutboxItem, row) if row else None


def retry_later(conn: Connection, *, item_id: int, attempts: int, at: datetime) -> None:
    conn.execute(
        update(webhook_outbox)
        .where(webhook_outbox.c.id == item_id)
        .values(attempts=attempts, next_attempt_at=at)
    )


def done(conn: Connection, *, item_id: int) -> None:
    conn.execute(delete(webhook_outbox).where(webhook_outbox.c.id == item_id))


def overflow(
    conn: Connection, *, webhook_id: str, keep: int, older_than: datetime
) -> list[OutboxItem]:
    """The deliveries of a hook beyond its bound: created before ``older_than``, or
    beyond the newest ``keep`` (the oldest go first)."""
    table = webhook_outbox
    query = select(table).where(table.c.webhook_id == webhook_id)
    rows = conn.execute(query.order_by(table.c.id.desc()).offset(keep)).mappings().all()
    old = conn.execute(query.where(table.c.created_at < older_than)).mappings().all()
    found = {r["id"]: record_of(OutboxItem, r) for r in [*rows, *old]}
    return [found[i] for i in sorted(found)]


def pending_count(conn: Connection, *, webhook_ids: Sequence[str]) -> dict[str, int]:
    if not webhook_ids:
        return {}
    query = (
        select(webhook_outbox.c.webhook_id, func.count())
        .where(webhook_outbox.c.webhook_id.in_(list(webhook_ids)))
        .group_by(webhook_outbox.c.webhook_id)
    )
    return {row[0]: int(row[1]) for row in conn.execute(query)}


# --- the delivery log ----------------------------------------------------------------


def log_delivery(conn: Connection, *, values: Mapping[str, Any]) -> None:
    conn.execute(insert(webhook_deliveries).values(**values))


def list_deliveries(
    conn: Connection, *, webhook_id: str, limit: int, offset: int
) -> tuple[list[DeliveryRecord], int]:
    """Newest first."""
    rows, total = list_rows(
        conn,
        webhook_deliveries,
        filters={"webhook_id": webhook_id},
        scope=None,
        sort=None,
        sortable={"id": webhook_deliveries.c.id},
        default_sort="-id",
        limit=limit,
        offset=offset,
    )
    return [record_of(DeliveryRecord, r) for r in rows], total


def prune_deliveries(conn: Connection, *, keep: int, older_than: datetime) -> int:
    """Each hook's log: none older than ``older_than``, at most its newest ``keep``."""
    table = webhook_deliveries
    count = int(conn.execute(delete(table).where(table.c.at < older_than)).rowcount or 0)
    for (hook,) in conn.execute(select(table.c.webhook_id).distinct()).all():
        cut = conn.execute(
            select(table.c.id)
            .where(table.c.webhook_id == hook)
            .order_by(table.c.id.desc())
            .offset(keep)
            .limit(1)
        ).scalar()
        if cut is not None:
            gone = conn.execute(delete(table).where(table.c.webhook_id == hook, table.c.id <= cut))
            count += int(gone.rowcount or 0)
    return count
