"""Conditions: their transitions after a pass (pure: records and PassResults in,
conditions out), the status_detail derived from them, what the API shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sdwan.domain import conditions as c
from sdwan.errors import SpeakerClaimed, SpeakerRejected, SpeakerUnreachable
from sdwan.reconcile.apply import PassResult
from sdwan.reconcile.conditions import (
    DELETED,
    detail,
    neighbor_after,
    owned_after,
    router_after,
    router_detail,
    router_failed,
)
from sdwan.reconcile.status_writes import owned_updates
from sdwan.store.records import AnnouncementRecord, NeighborRecord, PolicyRecord, RouterRecord

T0 = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=1)
T2 = T0 + timedelta(minutes=2)
ADDRESS = "198.18.11.1"


def _neighbor(status: str = "PENDING_CREATE", version: int = 1, **extra: object) -> NeighborRecord:
    fields = {
        "id": "n1",
        "router_uuid": "r1",
        "address": ADDRESS,
        "peer_asn": 65000,
        "description": "",
        "local_address": None,
        "hold_time": 90,
        "keepalive_interval": 30,
        "passive": False,
        "ebgp_multihop_ttl": 0,
        "password_sealed": None,
        "route_reflector_client": False,
        "enabled": True,
        "families": [],
        "status": status,
        "status_detail": "",
        "version": version,
        "created_at": T0,
        "updated_at": T0,
        **extra,
    }
    return NeighborRecord.from_row(fields)


def _router(status: str = "PENDING_CREATE", version: int = 1) -> RouterRecord:
    return RouterRecord.from_row(
        {
            "id": "r1",
            "project_id": "default",
            "name": "R1",
            "router_id": "198.18.0.1",
            "asn": 65001,
            "api_address": "unix:///x.sock",
            "listen_port": -1,
            "listen_addresses": [],
            "description": "",
            "status": status,
            "status_detail": "",
            "version": version,
            "created_at": T0,
            "updated_at": T0,
            "drift_mode": "repair",
            "tls": False,
            "tls_ca": None,
            "tls_server_name": None,
        }
    )


def _after(n: NeighborRecord, result: PassResult, at: datetime, full: bool = True):  # type: ignore[no-untyped-def]
    """Apply neighbor_after as the store would: the record as the next pass reads it."""
    after = neighbor_after(n, result, full=full, at=at)
    if after is None:
        return n, False
    status, new = after
    return replace(n, status=status, conditions=new, status_detail=detail(new)), True


def _kinds(conditions: c.Conditions) -> dict[str, tuple[str, str]]:
    return {x.type: (x.status, x.reason) for x in conditions}


def test_put_moves_since_only_when_the_status_changes() -> None:
    one = c.put((), c.APPLIED, c.TRUE, c.APPLIED_OK, at=T0, version=1)
    again = c.put(one, c.APPLIED, c.TRUE, c.SESSION_RESET, "reset", at=T1, version=2)
    assert again[0].since == T0 and again[0].reason == c.SESSION_RESET
    assert again[0].observed_version == 2
    assert c.put(one, c.APPLIED, c.TRUE, c.APPLIED_OK, at=T1, version=1) == one  # no news
    failed = c.put(again, c.APPLIED, c.FALSE, c.REJECTED, "no", at=T2, version=2)
    assert failed[0].since == T2
    # listed in a fixed order whatever order they were set in
    both = c.put(failed, c.DRIFTED, c.FALSE, c.IN_SYNC, at=T2, version=2)
    assert [x.type for x in c.put(both, c.APPLIED, c.TRUE, c.APPLIED_OK, at=T2, version=2)] == [
        c.APPLIED,
        c.DRIFTED,
    ]
    assert c.parse(c.dump(both)) == both  # the JSON column round trip


def test_neighbor_created_then_drift_reported_then_gone() -> None:
    n, wrote = _after(_neighbor(), PassResult(), T0)
    assert wrote and n.status == "ACTIVE" and n.status_detail == ""
    assert _kinds(n.conditions) == {
        c.APPLIED: (c.TRUE, c.APPLIED_OK),
        c.DRIFTED: (c.FALSE, c.IN_SYNC),
    }
    # a converged read-back has nothing to write
    assert _after(n, PassResult(), T1) == (n, False)
    report = PassResult(repair=False, drift={ADDRESS: "peer 198.18.11.1: hold_time changed"})
    n, wrote = _after(n, report, T1)
    assert wrote and _kinds(n.conditions)[c.DRIFTED] == (c.TRUE, c.REPORT_ONLY)
    assert c.find(n.conditions, c.DRIFTED).since == T1  # type: ignore[union-attr]
    assert n.status_detail == "drift (report-only): peer 198.18.11.1: hold_time changed"
    # the same report again: nothing new; a targeted pass without drift keeps it
    assert _after(n, report, T2) == (n, False)
    assert _after(n, PassResult(repair=False), T2, full=False) == (n, False)
    # a full pass that finds no difference: in sync again, since moves
    n, wrote = _after(n, PassResult(repair=False), T2)
    assert wrote and _kinds(n.conditions)[c.DRIFTED] == (c.FALSE, c.IN_SYNC)
    assert c.find(n.conditions, c.DRIFTED).since == T2  # type: ignore[union-attr]
    assert n.status_detail == ""


def test_rows_from_before_conditions_get_them_on_the_next_pass() -> None:
    old = _neighbor(status="ACTIVE", status_detail="drift (report-only): x")
    n, wrote = _after(old, PassResult(), T0)
    assert wrote and n.status_detail == ""
    assert _kinds(n.conditions) == {
        c.APPLIED: (c.TRUE, c.APPLIED_OK),
        c.DRIFTED: (c.FALSE, c.IN_SYNC),
    }
    router = replace(_router(), status="ACTIVE")
    assert _kinds(router_after(router, PassResult(), full=False, at=T0))[c.APPLIED] == (
        c.TRUE,
        c.APPLIED_OK,
    )


def test_neighbor_repair_and_session_reset_notes() -> None:
    n, _ = _after(_neighbor(), PassResult(), T0)
    repaired = PassResult(drift={ADDRESS: "peer 198.18.11.1 missing on gobgpd"})
    n, wrote = _after(n, repaired, T1)
    assert wrote and _kinds(n.conditions)[c.DRIFTED] == (c.FALSE, c.REPAIRED)
    assert n.status_detail == "drift repaired: peer 198.18.11.1 missing on gobgpd"
    drifted = c.find(n.conditions, c.DRIFTED)
    assert drifted is not None and drifted.since == T0  # still False: no transition
    # a user change applied with a session reset: the reset says it, the old repair goes
    changed = replace(n, status="PENDING_UPDATE", version=2)
    note = "session reset by gobgpd to apply peer_asn"
    n, wrote = _after(changed, PassResult(peer_notes={ADDRESS: note}), T2)
    assert wrote and n.status_detail == note
    assert _kinds(n.conditions) == {
        c.APPLIED: (c.TRUE, c.SESSION_RESET),
        c.DRIFTED: (c.FALSE, c.IN_SYNC),
    }
    assert all(x.observed_version == 2 for x in n.conditions)
    # later drift (report-only) is told instead of the old reset note
    n, _ = _after(n, PassResult(repair=False, drift={ADDRESS: "x"}), T2)
    assert n.status_detail == "drift (report-only): x"
    assert _kinds(n.conditions)[c.APPLIED] == (c.TRUE, c.APPLIED_OK)


def test_neighbor_errors_and_deletes() -> None:
    n, _ = _after(_neighbor(), PassResult(peer_errors={ADDRESS: "bad peer"}), T0)
    assert n.status == "ERROR" and n.status_detail == "bad peer"
    assert _kinds(n.conditions) == {c.APPLIED: (c.FALSE, c.REJECTED)}
    assert _after(n, PassResult(peer_errors={ADDRESS: "bad peer"}), T1) == (n, False)
    n, _ = _after(n, PassResult(), T1)  # the next pass got it through
    assert n.status == "ACTIVE" and c.find(n.conditions, c.APPLIED).since == T1  # type: ignore[union-attr]
    deleting = replace(n, status="PENDING_DELETE", version=2)
    assert neighbor_after(deleting, PassResult(), full=True, at=T2) == (DELETED, ())
    refused, _ = _after(deleting, PassResult(peer_errors={ADDRESS: "busy"}), T2)
    assert refused.status == "PENDING_DELETE" and refused.status_detail == "busy"


def test_router_restart_failures_and_drift() -> None:
    r = _router(status="PENDING_UPDATE", version=2)
    new = router_after(r, PassResult(restarted_for=["asn"]), full=True, at=T0)
    assert _kinds(new)[c.APPLIED] == (c.TRUE, c.BGP_RESTARTED)
    assert router_detail(new) == "BGP restarted to apply asn: all sessions reset"
    r = replace(r, status="ACTIVE", conditions=new)
    assert router_after(r, PassResult(), full=True, at=T1) == new  # nothing to write
    for exc, reason in (
        (SpeakerUnreachable("gone"), c.UNREACHABLE),
        (SpeakerRejected("no"), c.REJECTED),
        (SpeakerClaimed("other"), c.CLAIMED),
    ):
        failed = router_failed(r, exc, "why; retrying in 1s", at=T1)
        assert _kinds(failed)[c.APPLIED] == (c.FALSE, reason)
        assert router_detail(failed) == "why; retrying in 1s"
    # repairing global drift that needed a restart: the drift is the detail
    drift = PassResult(restarted_for=["asn"], drift={"global": "gobgpd runs BGP with other asn"})
    new = router_after(r, drift, full=True, at=T2)
    assert router_detail(new) == "drift repaired: gobgpd runs BGP with other asn"
    many = PassResult(repair=False, drift={str(i): f"d{i}" for i in range(7)})
    assert router_detail(router_after(r, many, full=True, at=T2)) == (
        "drift (report-only): d0; d1; d2; d3; d4; and 2 more"
    )


def test_shown_says_pending_for_an_unapplied_version() -> None:
    applied = c.put((), c.APPLIED, c.TRUE, c.APPLIED_OK, at=T0, version=1)
    record = _neighbor(status="ACTIVE", conditions=c.dump(applied))
    assert c.shown(record) == applied
    updated = replace(record, status="PENDING_UPDATE", version=2, updated_at=T1)
    (pending,) = c.shown(updated)
    assert (pending.status, pending.reason, pending.since) == (c.UNKNOWN, c.PENDING, T1)
    assert c.shown(_neighbor())[0].reason == c.PENDING  # created, no pass yet
    assert c.reachable({"reachable": None}) is None
    down = c.reachable(
        {"reachable": False, "reachable_since": T1.isoformat(), "last_error": "refused"}
    )
    assert down is not None and (down.status, down.reason, down.message, down.since) == (
        c.FALSE,
        c.UNREACHABLE,
        "refused",
        T1,
    )


def _owned(status: str = "PENDING_CREATE", version: int = 1, **extra: object) -> PolicyRecord:
    fields = {
        "id": "p1",
        "router_uuid": "r1",
        "description": "",
        "status": status,
        "status_detail": "",
        "version": version,
        "created_at": T0,
        "updated_at": T0,
        "name": "far",
        "statements": [],
        "generated_by": None,
        **extra,
    }
    return PolicyRecord.from_row(fields)


_ANNOUNCEMENT: dict[str, object] = {
    "prefix": "198.51.100.0/24",
    "next_hop": None,
    "origin": "igp",
    "med": None,
    "local_pref": 100,
    "communities": [],
    "large_communities": [],
    "as_path_prepend": 0,
}


def _owned_after(row: PolicyRecord, error: str | None, at: datetime):  # type: ignore[no-untyped-def]
    """owned_after as the store applies it: the record as the next stage reads it."""
    after = owned_after(row, error, at=at)
    if after is None:
        return row, False
    status, new = after
    return replace(row, status=status, conditions=new, status_detail=detail(new)), True


def test_owned_record_keeps_the_kinds_own_columns_apart() -> None:
    row = _owned(conditions=[["Applied", "True", "Applied", "", T0.isoformat(), 1]])
    assert row.values() == {"name": "far", "statements": []}
    assert (row.key, row.generated_by) == ("far", None)
    own = ("name", "statements", "conditions", "generated_by")  # announcements have no
    shared = {k: v for k, v in row.row().items() if k not in own}  # generated_by column
    announced = AnnouncementRecord.from_row({**shared, **_ANNOUNCEMENT})
    assert (announced.key, announced.generated_by) == ("198.51.100.0/24", None)
    assert announced.values() == _ANNOUNCEMENT
    assert row.conditions == c.put((), c.APPLIED, c.TRUE, c.APPLIED_OK, at=T0, version=1)
    assert _owned().conditions == ()  # a row just inserted, or from before 0016


def test_owned_applied_rejected_and_deleted() -> None:
    row, wrote = _owned_after(_owned(), None, T0)
    assert wrote and (row.status, row.status_detail) == ("ACTIVE", "")
    assert _kinds(row.conditions) == {c.APPLIED: (c.TRUE, c.APPLIED_OK)}
    assert _owned_after(row, None, T1) == (row, False)  # already said: nothing to write
    # a change gobgpd refuses: ERROR, the reason in the condition and the detail
    changed = replace(row, status="PENDING_UPDATE", version=2, status_detail="")
    row, wrote = _owned_after(changed, "bad prefix set", T1)
    assert wrote and (row.status, row.status_detail) == ("ERROR", "bad prefix set")
    applied = c.find(row.conditions, c.APPLIED)
    assert applied is not None and (applied.status, applied.reason) == (c.FALSE, c.REJECTED)
    assert (applied.since, applied.observed_version) == (T1, 2)
    # the same refusal again: decided from the conditions, nothing to write
    assert _owned_after(row, "bad prefix set", T2) == (row, False)
    # another reason: written, since kept (still False)
    row, wrote = _owned_after(row, "other", T2)
    assert wrote and row.status_detail == "other"
    assert c.find(row.conditions, c.APPLIED).since == T1  # type: ignore[union-attr]
    # an ACTIVE row is not what was refused: left alone
    ok, _ = _owned_after(_owned(), None, T0)
    assert owned_after(ok, "refused", at=T1) is None
    # through at last; then deleted
    row, _ = _owned_after(row, None, T2)
    assert row.status == "ACTIVE" and c.find(row.conditions, c.APPLIED).since == T2  # type: ignore[union-attr]
    deleting = replace(row, status="PENDING_DELETE", version=3)
    assert owned_after(deleting, None, at=T2) == (DELETED, ())
    refused, _ = _owned_after(deleting, "in use", T2)
    assert (refused.status, refused.status_detail) == ("PENDING_DELETE", "in use")


def test_owned_rows_from_before_conditions_and_their_updates() -> None:
    old = _owned(status="ACTIVE")
    updates, deleted = owned_updates([old], None, at=T0)
    applied = [["Applied", "True", "Applied", "", T0.isoformat(), 1]]
    assert (updates, deleted) == ([("p1", 1, "ACTIVE", "", applied)], [])
    recorded = _owned(status="ACTIVE", conditions=applied)
    gone = _owned(status="PENDING_DELETE", version=2, id="p2")
    assert owned_updates([recorded, gone], None, at=T1) == ([], [("p2", 2)])
    assert c.shown(replace(recorded, status="PENDING_UPDATE", version=2))[0].reason == c.PENDING
