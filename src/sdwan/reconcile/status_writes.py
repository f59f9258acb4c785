"""What a pass writes, as jobs for the store writer (one transaction per batch of
them): resource status guarded by the version the pass read, the rows of objects
gobgpd no longer has, and the events that tell about both."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Connection

from sdwan.domain.conditions import Conditions, dump
from sdwan.domain.status import Status
from sdwan.errors import SpeakerError
from sdwan.events.model import Event
from sdwan.reconcile import conditions, report
from sdwan.reconcile.apply import PassResult
from sdwan.reconcile.live_hooks import LiveHooks
from sdwan.reconcile.router_state import RouterState
from sdwan.store import repo
from sdwan.store.batch_writer import Job
from sdwan.store.records import NeighborRecord, OwnedRecord, RouterRecord
from sdwan.store.status_rows import ConditionsUpdate

R = TypeVar("R", NeighborRecord, OwnedRecord)


Updates = tuple[list[ConditionsUpdate], list[tuple[str, int]]]


def neighbor_updates(
    neighbors: Sequence[NeighborRecord], result: PassResult, *, full: bool, at: datetime
) -> Updates:
    """Status and condition changes for the neighbors a pass handled (only those that
    changed), and the rows to delete."""
    return _updates(
        neighbors,
        lambda n: conditions.neighbor_after(n, result, full=full, at=at),
        conditions.detail,
    )


def owned_updates(rows: Sequence[OwnedRecord], error: str | None, *, at: datetime) -> Updates:
    """As neighbor_updates, for the objects a policy or announcement stage applied."""
    return _updates(rows, lambda row: conditions.owned_after(row, error, at=at), conditions.detail)


def _updates(
    items: Sequence[R],
    after: Callable[[R], tuple[str, Conditions] | None],
    detail: Callable[[Conditions], str],
) -> Updates:
    updates: list[ConditionsUpdate] = []
    deleted: list[tuple[str, int]] = []
    for item in items:
        found = after(item)
        if found is None:
            continue
        status, new = found
        if status == conditions.DELETED:
            deleted.append((item.id, item.version))
        else:
            updates.append((item.id, item.version, status, detail(new), dump(new)))
    return updates, deleted


def pass_status_job(
    router: RouterRecord,
    neighbors: Sequence[NeighborRecord],
    result: PassResult,
    *,
    full: bool,
    events: list[Event],
    hooks: LiveHooks | None,
) -> Job | None:
    """None when the pass has nothing to write (a converged router's read-back)."""
    at = datetime.now(UTC)
    updates, deleted = neighbor_updates(neighbors, result, full=full, at=at)
    new = conditions.router_after(router, result, full=full, at=at)
    router_changed = (router.status, router.conditions) != (Status.ACTIVE, new)
    if not (updates or deleted or events or router_changed):
        return None
    detail = conditions.router_detail(new)

    def job(conn: Connection) -> bool:
        written = list(events)
        repo.set_neighbor_statuses(conn, updates=updates)
        repo.delete_neighbor_rows(conn, ids_versions=deleted)
        written += report.neighbor_status_events(router, neighbors, updates, deleted)
        if router_changed:
            changed = repo.set_router_status(
                conn, router_id=router.id, version=router.version, status=Status.ACTIVE,
                detail=detail, conditions=dump(new),
            )  # fmt: skip
            if changed and router.status != Status.ACTIVE:
                written.append(report.router_status_event(router, Status.ACTIVE, detail))
        if hooks is not None and written:
            hooks.events.record(conn, written)
            return True
        return False

    return job


def router_failure(
    router: RouterRecord, exc: SpeakerError, message: str
) -> tuple[Conditions, bool]:
    """The router's conditions after a failed pass, and whether they are news."""
    new = conditions.router_failed(router, exc, message, at=datetime.now(UTC))
    return new, router.status != Status.ERROR or new != router.conditions


def router_error_job(router: RouterRecord, new: Conditions, hooks: LiveHooks | None) -> Job:
    """ERROR with the reason; a router being deleted stays PENDING_DELETE (its deletion
    is retried), unless it changed meanwhile (a rollback kept it)."""
    detail = conditions.router_detail(new)
    deleting = router.status == Status.PENDING_DELETE
    status = Status.PENDING_DELETE if deleting else Status.ERROR

    def job(conn: Connection) -> bool:
        repo.set_router_status(
            conn, router_id=router.id, version=router.version if deleting else None,
            status=status, detail=detail, conditions=dump(new),
        )  # fmt: skip
        if hooks is not None and router.status not in (Status.ERROR, Status.PENDING_DELETE):
            hooks.events.record(conn, [report.router_status_event(router, Status.ERROR, detail)])
            return True
        return False

    return job


def delete_router_job(router_id: str, version: int) -> Job:
    """The row of a router whose deletion was applied, unless it changed meanwhile."""

    def job(conn: Connection) -> bool:
        repo.delete_router_row(conn, router_id=router_id, expected_version=version)
        return False

    return job


def note_drift(
    state: RouterState,
    hooks: LiveHooks | None,
    router: RouterRecord,
    result: PassResult,
    full: bool,
) -> list[Event]:
    """Drift into the live state and the metrics; an event when it was repaired, or
    when what is reported differs from the last report. (The Drifted conditions are
    the status job's: conditions.py.)"""
    if hooks is None or (not full and not result.drift):
        return []
    events: list[Event] = []
    if result.drift:
        hooks.metrics.inc("sdwan_drift_detected_total", len(result.drift), router=router.name)
        if result.repair:
            hooks.metrics.inc("sdwan_drift_repairs_total", len(result.drift), router=router.name)
        if result.repair or result.drift != state.last_drift:
            events.append(report.drift_event(router, result.drift, result.repair))
    if full and (result.drift or state.last_drift):
        hooks.writer.drift(router.id, [] if result.repair else list(result.drift.values()))
    state.last_drift = {} if result.repair else dict(result.drift)
    return events
