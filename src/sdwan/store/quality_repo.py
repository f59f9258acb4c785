"""Data access for observed path quality (migration 0012): each uplink's latest report
(``uplink_quality``), its downsampled history (``uplink_quality_history``) and each
intent's steering memory (``intent_steering``). Typed records, keyword-only arguments;
callers own the transaction. The quality controller writes (``upsert_quality``,
``add_history``, ``prune_history``, ``put_steering``); the API and /metrics read.

Shapes inside the JSON columns (the probe agent's, docs/intent.md): a window's
figures ``{"window_s", "sent", "answered", "loss_pct", "latency_ms", "jitter_ms"}``
(a figure is null while not measured); ``classes`` maps a class name to ``{"state":
"met" | "violated" | "unknown", "since": <epoch seconds>, "reason": "..."}``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from sdwan.store.intent_tables import intents, sites, uplinks
from sdwan.store.quality_tables import intent_steering, uplink_quality, uplink_quality_history
from sdwan.store.records import record_of
from sdwan.store.tables import routers


@dataclass(frozen=True)
class UplinkQualityRecord:
    """The latest report of an uplink's probe agent, as the controller stored it."""

    uplink_id: str
    state: str  # up | dead | unknown
    since: datetime  # in this state since (the agent's clock)
    short: dict[str, Any]  # the short window's figures
    long: dict[str, Any]  # the long window's
    classes: dict[str, dict[str, Any]]  # class name -> {state, since, reason}
    agent: str  # the control address of the agent that reported it
    reported_at: datetime  # when the controller received it
    local_address: str | None = None  # the router's own address on the uplink
    interface: str | None = None


@dataclass(frozen=True)
class NamedQuality:
    """An uplink's latest report with the names people and metrics know it by."""

    site: str
    uplink: str
    router: str
    project_id: str
    quality: UplinkQualityRecord


@dataclass(frozen=True)
class HistoryBucket:
    """``reports`` reports of one uplink folded into ``resolution`` seconds starting at
    ``bucket_start``: means (over the reports that measured the figure) and maxima;
    ``dead_s`` the seconds of the bucket the uplink was dead."""

    uplink_id: str
    resolution: int
    bucket_start: datetime
    reports: int
    loss_pct: float | None = None
    loss_max_pct: float | None = None
    latency_ms: float | None = None
    latency_max_ms: float | None = None
    jitter_ms: float | None = None
    jitter_max_ms: float | None = None
    dead_s: float = 0.0

    def key(self) -> tuple[str, int, datetime]:
        return self.uplink_id, self.resolution, self.bucket_start


@dataclass(frozen=True)
class SteeringRecord:
    intent_id: str
    state: dict[str, Any] = field(default_factory=dict)  # domain.sla.Steering, as JSON
    updated_at: datetime | None = None


def _upsert(conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert ``rows``, replacing the ones whose ``keys`` exist already (one statement)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(rows)
    changed = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changed))


def _existing_uplinks(conn: Connection, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    found = conn.execute(select(uplinks.c.id).where(uplinks.c.id.in_(sorted(set(ids)))))
    return {r[0] for r in found}


# --- the latest report ----------------------------------------------------------------


def upsert_quality(conn: Connection, *, rows: Sequence[UplinkQualityRecord]) -> None:
    """Store each uplink's latest report, replacing the one before. Reports of uplinks
    deleted meanwhile are dropped (a delete committed between this check and the write
    makes the database refuse the write: retry the batch)."""
    known = _existing_uplinks(conn, [r.uplink_id for r in rows])
    latest = {r.uplink_id: asdict(r) for r in rows if r.uplink_id in known}
    _upsert(conn, uplink_quality, list(latest.values()), ["uplink_id"])


def delete_quality(conn: Connection, *, uplink_ids: Sequence[str]) -> None:
    """Forget the latest reports of these uplinks (no longer measured)."""
    if uplink_ids:
        conn.execute(delete(uplink_quality).where(uplink_quality.c.uplink_id.in_(list(uplink_ids))))


def quality_of(conn: Connection, *, uplink_ids: Sequence[str]) -> dict[str, UplinkQualityRecord]:
    """Uplink id -> its latest report, for those that have one."""
    if not uplink_ids:
        return {}
    rows = conn.execute(
        select(uplink_quality).where(uplink_quality.c.uplink_id.in_(list(uplink_ids)))
    ).mappings()
    return {r["uplink_id"]: record_of(UplinkQualityRecord, r) for r in rows}


def named_quality(conn: Connection, *, project_id: str | None = None) -> list[NamedQuality]:
    """Every latest report (of ``project_id``'s sites only, when given) with its site,
    uplink and router names, ordered by site and uplink."""
    query = (
        select(
            uplink_quality,
            sites.c.name.label("site_name"),
            sites.c.project_id.label("site_project"),
            uplinks.c.name.label("uplink_name"),
            routers.c.name.label("router_name"),
        )
        .join(uplinks, uplinks.c.id == uplink_quality.c.uplink_id)
        .join(sites, sites.c.id == uplinks.c.site_id)
        .join(routers, routers.c.id == uplinks.c.router_uuid)
        .order_by(sites.c.name, uplinks.c.name)
    )
    if project_id is not None:
        query = query.where(sites.c.project_id == project_id)
    return [
        NamedQuality(
            r["site_name"],
            r["uplink_name"],
            r["router_name"],
            r["site_project"],
            record_of(UplinkQualityRecord, r),
        )
        for r in conn.execute(query).mappings()
    ]


# --- history --------------------------------------------------------------------------


def _mean(a: float | None, n: int, b: float | None, m: int) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return (a * n + b * m) / (n + m) if n + m else None


def _most(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return max(a, b)


def merged(old: HistoryBucket, new: HistoryBucket) -> HistoryBucket:
    """Two parts of one bucket as one: reports summed, means weighted by reports,
    maxima the larger, dead seconds summed (at most the bucket)."""
    n, m = old.reports, new.reports
    return replace(
        old,
        reports=n + m,
        loss_pct=_mean(old.loss_pct, n, new.loss_pct, m),
        loss_max_pct=_most(old.loss_max_pct, new.loss_max_pct),
        latency_ms=_mean(old.latency_ms, n, new.latency_ms, m),
        latency_max_ms=_most(old.latency_max_ms, new.latency_max_ms),
        jitter_ms=_mean(old.jitter_ms, n, new.jitter_ms, m),
        jitter_max_ms=_most(old.jitter_max_ms, new.jitter_max_ms),
        dead_s=min(old.dead_s + new.dead_s, float(old.resolution)),
    )


def add_history(conn: Connection, *, buckets: Sequence[HistoryBucket]) -> None:
    """Add reports to the history: each bucket given is folded into the stored bucket
    of the same uplink, resolution and start (``merged``), or stored as it is. So the
    caller writes what it folded since its last write, never a bucket twice. Buckets
    of uplinks deleted meanwhile are dropped."""
    known = _existing_uplinks(conn, [b.uplink_id for b in buckets])
    given: dict[tuple[str, int, datetime], HistoryBucket] = {}
    for bucket in buckets:
        if bucket.uplink_id in known:
            key = bucket.key()
            given[key] = merged(given[key], bucket) if key in given else bucket
    if not given:
        return
    table = uplink_quality_history
    earliest = min(key[2] for key in given)
    stored = conn.execute(
        select(table).where(
            table.c.uplink_id.in_(sorted({key[0] for key in given})),
            table.c.bucket_start >= earliest,
        )
    ).mappings()
    for row in stored:
        old = record_of(HistoryBucket, row)
        if old.key() in given:
            given[old.key()] = merged(old, given[old.key()])
    _upsert(
        conn,
        table,
        [asdict(b) for b in given.values()],
        ["uplink_id", "resolution", "bucket_start"],
    )


def prune_history(conn: Connection, *, before_by_resolution: Mapping[int, datetime]) -> int:
    """Delete the buckets of each resolution that start before its time; how many."""
    table = uplink_quality_history
    if not before_by_resolution:
        return 0
    old = or_(
        *(
            and_(table.c.resolution == resolution, table.c.bucket_start < before)
            for resolution, before in before_by_resolution.items()
        )
    )
    return int(conn.execute(delete(table).where(old)).rowcount)


def resolutions_of(conn: Connection, *, uplink_id: str) -> dict[int, datetime]:
    """Resolution -> the start of its oldest stored bucket, for one uplink."""
    table = uplink_quality_history
    rows = conn.execute(
        select(table.c.resolution, func.min(table.c.bucket_start))
        .where(table.c.uplink_id == uplink_id)
        .group_by(table.c.resolution)
    )
    return {int(r[0]): _aware(r[1]) for r in rows}


def _aware(value: datetime) -> datetime:
    """An aggregate bypasses the column type: SQLite hands back a naive UTC value."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def history(
    conn: Connection,
    *,
    uplink_id: str,
    resolution: int,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[HistoryBucket]:
    """The newest ``limit`` buckets of one uplink and resolution that start at or after
    ``since`` and before ``until``, oldest first."""
    table = uplink_quality_history
    where = [table.c.uplink_id == uplink_id, table.c.resolution == resolution]
    if since is not None:
        where.append(table.c.bucket_start >= since)
    if until is not None:
        where.append(table.c.bucket_start < until)
    rows = conn.execute(
        select(table).where(*where).order_by(table.c.bucket_start.desc()).limit(limit)
    ).mappings()
    return [record_of(HistoryBucket, r) for r in reversed(list(rows))]


# --- steering -------------------------------------------------------------------------


def get_steering(conn: Connection, *, intent_ids: Sequence[str]) -> dict[str, SteeringRecord]:
    """Intent id -> its stored steering state, for those that have one."""
    if not intent_ids:
        return {}
    rows = conn.execute(
        select(intent_steering).where(intent_steering.c.intent_id.in_(list(intent_ids)))
    ).mappings()
    return {r["intent_id"]: record_of(SteeringRecord, r) for r in rows}


def put_steering(
    conn: Connection, *, intent_id: str, state: Mapping[str, Any], updated_at: datetime
) -> bool:
    """Store an intent's steering state (replacing the one before); False, and nothing
    written, when the intent no longer exists."""
    found = conn.execute(select(intents.c.id).where(intents.c.id == intent_id)).first()
    if found is None:
        return False
    row = {"intent_id": intent_id, "state": dict(state), "updated_at": updated_at}
    _upsert(conn, intent_steering, [row], ["intent_id"])
    return True
