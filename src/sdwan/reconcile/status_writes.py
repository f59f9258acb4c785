"""What a pass writes, as jobs for the store writer (one transaction per batch of
them): resource status guarded by the version the pass read, the rows of objects
gobgpd no longer has, and the events that tell about both."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from sdwan.domain.status import Status
from sdwan.events.model import Event
from sdwan.reconcile import report
from sdwan.reconcile.apply import PassResult
from sdwan.reconcile.live_hooks import LiveHooks
from sdwan.reconcile.router_state import RouterState
from sdwan.store import repo
from sdwan.store.batch_writer import Job
from sdwan.store.records import NeighborRecord, RouterRecord

StatusUpdate = tuple[str, int, str, str]  # id, version read, status, detail


def neighbor_updates(
    neighbors: Sequence[NeighborRecord], result: PassResult
) -> tuple[list[StatusUpdate], list[tuple[str, int]]]:
    """Status changes for the neighbors a pass handled, and the rows to delete."""
    updates: list[StatusUpdate] = []
    deleted: list[tuple[str, int]] = []
    for n in neighbors:
        error = result.peer_errors.get(n.address)
        if n.status == Status.PENDING_DELETE:
            if error is None:
                deleted.append((n.id, n.version))
            elif n.status_detail != error:
                updates.append((n.id, n.version, Status.PENDING_DELETE, error))
            continue
        if error is not None:
            status, detail = Status.ERROR, error
        elif n.address in result.peer_notes:
            status, detail = Status.ACTIVE, result.peer_notes[n.address]
        elif n.status == Status.ACTIVE:
            continue  # nothing new to say
        else:
            status, detail = Status.ACTIVE, ""
        if (status, detail) != (n.status, n.status_detail):
            updates.append((n.id, n.version, status, detail))
    return updates, deleted


def router_detail(router: RouterRecord, result: PassResult, *, full: bool) -> str:
    detail = router.status_detail if router.status == Status.ACTIVE else ""
    if result.restarted_for:
        detail = f"BGP restarted to apply {', '.join(result.restarted_for)}: all sessions reset"
    if result.drift:
        detail = report.router_drift_detail(result.drift, result.repair)
    elif full and detail.startswith(report.REPORT_ONLY_PREFIX):
        detail = ""  # the drift is gone
    return detail


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
    updates, deleted = neighbor_updates(neighbors, result)
    detail = router_detail(router, result, full=full)
    if not (updates or deleted or events) and (router.status, router.status_detail) == (
        Status.ACTIVE,
        detail,
    ):
        return None

    def job(conn: Connection) -> bool:
        written = list(events)
        repo.set_neighbor_statuses(conn, updates=updates)
        repo.delete_neighbor_rows(conn, ids_versions=deleted)
        written += report.neighbor_status_events(router, neighbors, updates, deleted)
        if (router.status, router.status_detail) != (Status.ACTIVE, detail):
            changed = repo.set_router_status(
                conn, router_id=router.id, version=router.version, status=Status.ACTIVE,
                detail=detail,
            )  # fmt: skip
            if changed and router.status != Status.ACTIVE:
                written.append(report.router_status_event(router, Status.ACTIVE, detail))
        if hooks is not None and written:
            hooks.events.record(conn, written)
            return True
        return False

    return job


def router_error_job(router: RouterRecord, detail: str, hooks: LiveHooks | None) -> Job:
    def job(conn: Connection) -> bool:
        repo.set_router_status(
            conn, router_id=router.id, version=None, status=Status.ERROR, detail=detail
        )
        if hooks is not None and router.status != Status.ERROR:
            hooks.events.record(conn, [report.router_status_event(router, Status.ERROR, detail)])
            return True
        return False

    return job


def delete_router_job(router_id: str) -> Job:
    def job(conn: Connection) -> bool:
        repo.delete_router_row(conn, router_id=router_id)
        return False

    return job


def note_drift(
    state: RouterState,
    hooks: LiveHooks | None,
    router: RouterRecord,
    neighbors: Sequence[NeighborRecord],
    result: PassResult,
    full: bool,
) -> list[Event]:
    """Drift into the neighbors' notes, the live state and the metrics; an event when
    it was repaired, or when what is reported differs from the last report."""
    for n in neighbors:
        if n.address in result.drift:
            result.peer_notes.setdefault(
                n.address, report.drift_note(result.drift[n.address], result.repair)
            )
        elif full and n.status_detail.startswith(report.REPORT_ONLY_PREFIX):
            result.peer_notes.setdefault(n.address, "")  # the drift is gone
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
