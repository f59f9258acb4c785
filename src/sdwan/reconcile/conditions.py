"""The conditions a pass leaves on a router, its neighbors and the objects it owns
(defined sets, policies, attachments, announcements: ``Applied`` only; domain/conditions.py
says what each type and reason means). Pure: what was read, what the pass did and
the time in, conditions out; a result equal to what is stored means nothing to write.

``Applied`` is restated whenever a pass has something to say about the resource (a
user change applied, an error, a reset, new drift): its reason and message always
tell about the last such pass, so an old reset note never outlives a later drift.
``Drifted`` follows the read-backs: new differences set it, a full pass that finds
none clears a report-only one (InSync), and a user change applied starts it afresh."""

from __future__ import annotations

from datetime import datetime

from sdwan.domain import conditions as c
from sdwan.domain.status import Status
from sdwan.errors import SpeakerClaimed, SpeakerError, SpeakerUnreachable
from sdwan.reconcile.apply import PassResult
from sdwan.reconcile.report import drift_summary
from sdwan.store.records import NeighborRecord, OwnedRecord, RouterRecord

DELETED = "DELETED"  # neighbor_after: gobgpd no longer has it, the row goes


def _drifted(
    old: c.Conditions,
    difference: str | None,
    *,
    repair: bool,
    fresh: bool,
    full: bool,
    at: datetime,
    version: int,
) -> c.Conditions:
    if difference is not None:
        status, reason = (c.FALSE, c.REPAIRED) if repair else (c.TRUE, c.REPORT_ONLY)
        return c.put(old, c.DRIFTED, status, reason, difference, at=at, version=version)
    drifted = c.find(old, c.DRIFTED)
    if fresh or (full and drifted is not None and drifted.status == c.TRUE):
        return c.put(old, c.DRIFTED, c.FALSE, c.IN_SYNC, at=at, version=version)
    return old


def neighbor_after(
    n: NeighborRecord, result: PassResult, *, full: bool, at: datetime
) -> tuple[str, c.Conditions] | None:
    """(status, conditions) after the pass; (DELETED, ()) when the row goes; None when
    nothing changed."""
    error = result.peer_errors.get(n.address)
    if n.status == Status.PENDING_DELETE:
        if error is None:
            return DELETED, ()
        status: str = Status.PENDING_DELETE
        new = c.put(n.conditions, c.APPLIED, c.FALSE, c.REJECTED, error, at=at, version=n.version)
    elif error is not None:
        status = Status.ERROR
        new = c.put(n.conditions, c.APPLIED, c.FALSE, c.REJECTED, error, at=at, version=n.version)
    else:
        status = Status.ACTIVE
        fresh = n.status != Status.ACTIVE or not n.conditions  # none: from before 0015
        note = result.peer_notes.get(n.address)
        new = _drifted(
            n.conditions,
            result.drift.get(n.address),
            repair=result.repair,
            fresh=fresh,
            full=full,
            at=at,
            version=n.version,
        )
        if fresh or note is not None or new != n.conditions:
            reason = c.SESSION_RESET if note else c.APPLIED_OK
            new = c.put(new, c.APPLIED, c.TRUE, reason, note or "", at=at, version=n.version)
    if (status, new) == (n.status, n.conditions):
        return None
    return status, new


def router_after(
    router: RouterRecord, result: PassResult, *, full: bool, at: datetime
) -> c.Conditions:
    """The router's conditions after a pass that reached gobgpd (status ACTIVE)."""
    fresh = router.status != Status.ACTIVE or not router.conditions  # none: before 0015
    new = _drifted(
        router.conditions,
        drift_summary(result.drift) if result.drift else None,
        repair=result.repair,
        fresh=fresh,
        full=full,
        at=at,
        version=router.version,
    )
    if fresh or result.restarted_for or new != router.conditions:
        restarted = ", ".join(result.restarted_for)
        reason, note = (
            (c.BGP_RESTARTED, f"BGP restarted to apply {restarted}: all sessions reset")
            if restarted
            else (c.APPLIED_OK, "")
        )
        new = c.put(new, c.APPLIED, c.TRUE, reason, note, at=at, version=router.version)
    return new


def router_failed(
    router: RouterRecord, exc: SpeakerError, message: str, *, at: datetime
) -> c.Conditions:
    """After a pass that failed as a whole (the router turns ERROR)."""
    if isinstance(exc, SpeakerUnreachable):
        reason = c.UNREACHABLE
    elif isinstance(exc, SpeakerClaimed):
        reason = c.CLAIMED
    else:
        reason = c.REJECTED
    return c.put(
        router.conditions, c.APPLIED, c.FALSE, reason, message, at=at, version=router.version
    )


def owned_after(
    row: OwnedRecord, error: str | None, *, at: datetime
) -> tuple[str, c.Conditions] | None:
    """A defined set's, policy's, attachment's or announcement's (status, conditions)
    after its stage applied the router's objects (``error``: gobgpd refused them, its
    reason); (DELETED, ()) when the row goes; None when nothing changed. An error
    leaves ACTIVE rows as they are: the change refused was not theirs (a failed repair
    is the router's drift)."""
    if row.status == Status.PENDING_DELETE and error is None:
        return DELETED, ()
    if error is None:
        status: str = Status.ACTIVE
        new = c.put(row.conditions, c.APPLIED, c.TRUE, c.APPLIED_OK, at=at, version=row.version)
    elif row.status == Status.ACTIVE:
        return None
    else:
        status = Status.PENDING_DELETE if row.status == Status.PENDING_DELETE else Status.ERROR
        new = c.put(
            row.conditions, c.APPLIED, c.FALSE, c.REJECTED, error, at=at, version=row.version
        )
    if (status, new) == (row.status, row.conditions):
        return None
    return status, new


def detail(conditions: c.Conditions) -> str:
    """status_detail of a neighbor or an owned object (a router's puts drift first)."""
    return c.detail_of(conditions, drift_first=False)


def router_detail(conditions: c.Conditions) -> str:
    return c.detail_of(conditions, drift_first=True)
