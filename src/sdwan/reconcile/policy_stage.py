"""The policy and announcement stages of a full pass, with the store around them:
load the router's policy objects, compile, apply, write their status and ``Applied``
condition (reconcile/conditions.py: owned_after)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, Engine

from sdwan.domain.policy_compile import DIRECTIONS
from sdwan.domain.policy_rows import Row, compile_rows
from sdwan.domain.status import Status
from sdwan.errors import SpeakerRejected
from sdwan.gobgp.client import BgpSpeaker
from sdwan.reconcile.announce_apply import apply_announcements
from sdwan.reconcile.dry_speaker import RecordingSpeaker
from sdwan.reconcile.policy_apply import PolicyResult, apply_policy
from sdwan.reconcile.status_writes import owned_updates
from sdwan.store import owned_rows
from sdwan.store.batch_writer import JobSink
from sdwan.store.records import (
    AnnouncementRecord,
    AttachmentRecord,
    DefinedSetRecord,
    OwnedRecord,
    PolicyRecord,
    RouterRecord,
)

log = logging.getLogger(__name__)
POLICY_OBJECTS: tuple[type[OwnedRecord], ...] = (DefinedSetRecord, PolicyRecord, AttachmentRecord)
NO_ASSIGNMENT = ((), "accept")  # gobgpd's global assignment when nothing is assigned


def declared_kinds(engine: Engine, router_id: str) -> frozenset[type[OwnedRecord]]:
    """Which of the policy objects and announcements the router has rows of: one query,
    so that a full pass of a router that declares none of them costs no more."""
    with engine.connect() as conn:
        return owned_rows.kinds_with_rows(
            conn, (*POLICY_OBJECTS, AnnouncementRecord), router_id=router_id
        )


def policy_unassigned(speaker: BgpSpeaker) -> bool:
    """For a router that declares no policy: gobgpd assigns nothing in either direction,
    so whatever sets or policies it may hold have no effect on routes. Two reads instead
    of the stage's eight; a difference sends the pass through run_policy_stage."""
    return all(speaker.get_assignment(d) == NO_ASSIGNMENT for d in DIRECTIONS)


Loaded = dict[type[OwnedRecord], list[OwnedRecord]]


def _load(engine: Engine, router_id: str, kinds: tuple[type[OwnedRecord], ...]) -> Loaded:
    with engine.connect() as conn:
        return {k: list(owned_rows.records_of_router(conn, k, router_id=router_id)) for k in kinds}


def _live(rows: list[OwnedRecord]) -> list[Row]:
    """What the compiler reads: the kind's own columns of the rows not being deleted."""
    return [r.values() for r in rows if r.status != Status.PENDING_DELETE]


def _pending(rows: Loaded) -> bool:
    return any(r.status != Status.ACTIVE for table in rows.values() for r in table)


def run_policy_stage(
    engine: Engine,
    writer: JobSink,
    router: RouterRecord,
    speaker: BgpSpeaker,
    *,
    peers: list[str],
    repair: bool = True,
    drift: dict[str, str] | None = None,
) -> PolicyResult | None:
    """Apply the router's policy. Without a pending change of the user's, a difference
    is drift: recorded in ``drift`` under "policy", and repaired only with ``repair``.
    None when nothing was applied or gobgpd refused something (the objects are then
    ERROR with its reason). SpeakerUnreachable propagates: the pass failed."""
    rows = _load(engine, router.id, POLICY_OBJECTS)
    try:
        compiled = compile_rows(  # as the intent planner compiles them: one way
            asn=router.asn,
            sets=_live(rows[DefinedSetRecord]),
            policies=_live(rows[PolicyRecord]),
            attachments=_live(rows[AttachmentRecord]),
        )
        if not _pending(rows):
            probe = RecordingSpeaker(speaker)
            would = apply_policy(cast(BgpSpeaker, probe), compiled, peers=[])
            if not probe.writes:
                _write_status(writer, rows, error=None)  # rows from before 0016: Applied
                return None
            if drift is not None:
                drift["policy"] = "policy on gobgpd differs: " + "; ".join(would.steps[:5])
            if not repair:
                return None
        result = apply_policy(speaker, compiled, peers=peers)
    except SpeakerRejected as exc:
        _write_status(writer, rows, error=exc.message)
        return None
    _write_status(writer, rows, error=None)
    if result.steps:
        log.info("router %s policy: %s", router.name, "; ".join(result.steps))
    return result


def run_announcement_stage(
    engine: Engine,
    writer: JobSink,
    router: RouterRecord,
    speaker: BgpSpeaker,
    *,
    repair: bool = True,
    drift: dict[str, str] | None = None,
) -> list[str] | None:
    """Originate exactly the declared prefixes; drift handled as in run_policy_stage."""
    with engine.connect() as conn:
        items = owned_rows.records_of_router(conn, AnnouncementRecord, router_id=router.id)
    rows: Loaded = {AnnouncementRecord: list(items)}
    live = [r for r in items if r.status != Status.PENDING_DELETE]
    withdrawn = [r for r in items if r.status == Status.PENDING_DELETE]
    try:
        if not _pending(rows):
            probe = RecordingSpeaker(speaker)
            would = apply_announcements(
                cast(BgpSpeaker, probe), live, asn=router.asn, withdrawn=withdrawn
            )
            if not probe.writes:
                _write_status(writer, rows, error=None)  # rows from before 0016: Applied
                return None
            if drift is not None:
                drift["announcements"] = "announcements on gobgpd differ: " + "; ".join(would[:5])
            if not repair:
                return None
        steps = apply_announcements(speaker, live, asn=router.asn, withdrawn=withdrawn)
    except SpeakerRejected as exc:
        _write_status(writer, rows, error=exc.message)
        return None
    _write_status(writer, rows, error=None)
    return steps


def _write_status(writer: JobSink, rows: Loaded, *, error: str | None) -> None:
    """The objects' status and conditions after their stage (version-guarded), for the
    store writer; nothing when they already say so."""
    at = datetime.now(UTC)
    writes = {kind: owned_updates(of_kind, error, at=at) for kind, of_kind in rows.items()}
    if not any(updates or deleted for updates, deleted in writes.values()):
        return

    def job(conn: Connection) -> bool:
        for kind, (updates, deleted) in writes.items():
            owned_rows.write_statuses(conn, kind, updates=updates, deleted=deleted)
        return False

    writer.write(job)
