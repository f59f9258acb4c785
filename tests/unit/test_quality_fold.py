"""What the orchestrator keeps of the agents' reports (sdwan.quality.fold, .history):
events on changes only, rows at most once per write interval (a change at once), the
history's buckets (means, maxima, dead seconds) and their bounded retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sdwan.domain.sla import ClassReport, ClassVerdict
from sdwan.domain.uplink_report import Figures, UplinkReport
from sdwan.quality.fold import QualityFold
from sdwan.quality.history import MAX_ROWS, RESOLUTIONS, History, cutoffs
from sdwan.quality.inputs import UplinkInfo
from sdwan.store.quality_repo import UplinkQualityRecord

MPLS = UplinkInfo("u1", "s1", "tokyo", "mpls", "r1", "tk", "default")
T0 = 1_765_000_800.0  # a multiple of 900 s: every bucket starts here


def report(
    state: str = "up",
    gold: ClassVerdict | None = ClassVerdict.MET,
    *,
    loss: float = 0.0,
    local: str | None = "198.18.41.1",
    reason: str = "",
) -> UplinkReport:
    classes = {"gold": ClassReport(gold, T0, reason)} if gold is not None else {}
    figures = Figures(2.0, 600, 600, loss, 1.0, 0.1)
    return UplinkReport("u1", state, T0, figures, figures, classes, local, "mpls")


def fold(**options: float) -> QualityFold:
    folding = QualityFold(**options)
    folding.reset({"u1": MPLS}, {})
    return folding


def messages(folding: QualityFold) -> list[str]:
    return [e.message for e in folding.drain(0.0)[1]]


def test_events_on_changes_of_state_and_class_only() -> None:
    folding = fold()
    folding.fold("agent", "snapshot", {"u1": report()}, now=T0)
    assert messages(folding) == ["uplink tokyo/mpls: up", "uplink tokyo/mpls: meets gold"]
    folding.fold("agent", "summary", {"u1": report(loss=0.5)}, now=T0 + 1)
    assert messages(folding) == []  # figures move, nothing changes
    lossy = report(gold=ClassVerdict.VIOLATED, loss=6.1, reason="loss 6.1 % > 2 %")
    changed = folding.fold("agent", "change", {"u1": lossy}, now=T0 + 2)
    assert changed.changed == {"u1"}
    assert messages(folding) == ["uplink tokyo/mpls: violates gold: loss 6.1 % > 2 %"]
    unknown_class = report(gold=ClassVerdict.UNKNOWN)  # not evaluated: what was said stays
    assert not folding.fold("agent", "summary", {"u1": unknown_class}, now=T0 + 3).changed
    dead = report("dead", gold=ClassVerdict.VIOLATED, reason="dead")
    folding.fold("agent", "change", {"u1": dead}, now=T0 + 4)
    assert messages(folding) == ["uplink tokyo/mpls: dead (probes unanswered)"]
    event = folding.fold("agent", "change", {"u1": report()}, now=T0 + 5)
    assert event.changed == {"u1"}
    assert messages(folding) == ["uplink tokyo/mpls: up", "uplink tokyo/mpls: meets gold"]
    lost = folding.unreachable("agent", ["u1"], "probe agent unreachable: gone", now=T0 + 6)
    assert lost == {"u1"}
    assert messages(folding) == ["uplink tokyo/mpls: unknown (probe agent unreachable: gone)"]


def test_a_class_event_says_when_the_agent_decided_and_when_it_was_folded() -> None:
    folding = fold()
    folding.fold("agent", "snapshot", {"u1": report()}, now=T0)
    folding.drain(0.0)
    lossy = UplinkReport(
        "u1",
        "up",
        T0,
        classes={"gold": ClassReport(ClassVerdict.VIOLATED, T0 + 1.25, "loss 6.1 % > 2 %")},
    )
    folding.fold("agent", "change", {"u1": lossy}, now=T0 + 1.5)
    (event,) = folding.drain(0.0)[1]
    assert event.data["class_state"] == "violated"
    assert (event.data["since"], event.data["received"]) == (T0 + 1.25, T0 + 1.5)


def test_a_restart_starts_from_the_stored_report_and_says_nothing_new() -> None:
    folding = QualityFold()
    stored = UplinkQualityRecord(
        "u1",
        "up",
        datetime.fromtimestamp(T0, UTC),
        {},
        {},
        {"gold": {"state": "met", "since": T0, "reason": ""}},
        "agent",
        datetime.fromtimestamp(T0, UTC),
        "198.18.41.1",
    )
    folding.reset({"u1": MPLS}, {"u1": stored})
    assert folding.local_addresses == {"u1": "198.18.41.1"}
    folded = folding.fold("agent", "snapshot", {"u1": report()}, now=T0)
    assert not folded.changed and not folded.addresses
    assert messages(folding) == []


def test_rows_at_most_once_per_interval_and_a_change_at_once() -> None:
    folding = fold(write_interval=1.0)
    folding.fold("agent", "snapshot", {"u1": report()}, now=T0)
    rows, _ = folding.drain(10.0)
    assert [r.state for r in rows] == ["up"]
    folding.fold("agent", "summary", {"u1": report(loss=0.2)}, now=T0 + 0.5)
    assert folding.drain(10.5)[0] == []  # written half a second ago
    assert [r.short["loss_pct"] for r in folding.drain(11.0)[0]] == [0.2]
    dead = report("dead")
    folding.fold("agent", "change", {"u1": dead}, now=T0 + 1.1)
    assert [r.state for r in folding.drain(11.1)[0]] == ["dead"]  # a change: at once


def test_reports_of_unknown_uplinks_are_dropped_and_new_addresses_noticed() -> None:
    folding = fold()
    other = UplinkReport("u9", "up", T0)
    assert not folding.fold("agent", "summary", {"u9": other}, now=T0).changed
    assert "u9" not in folding.latest
    assert folding.fold("agent", "summary", {"u1": report()}, now=T0).addresses
    assert not folding.fold("agent", "summary", {"u1": report()}, now=T0 + 1).addresses
    moved = folding.fold("agent", "summary", {"u1": report(local="198.18.41.9")}, now=T0 + 2)
    assert moved.addresses and folding.local_addresses["u1"] == "198.18.41.9"


def test_history_buckets_hold_means_maxima_and_dead_seconds() -> None:
    history = History()
    for second, (state, loss) in enumerate([("up", 1.0), ("up", 3.0), ("dead", 100.0)]):
        history.add(report(state, loss=loss), T0 + second)
    history.add(report(loss=2.0), T0 + 12)  # the next 10 s bucket
    buckets = {(b.resolution, b.bucket_start.timestamp()): b for b in history.flush()}
    assert history.flush() == []  # each flush hands over what came since the last
    ten = buckets[(10, T0)]
    assert ten.reports == 3
    assert ten.loss_pct == (1.0 + 3.0 + 100.0) / 3 and ten.loss_max_pct == 100.0
    assert ten.dead_s == 1.0  # the dead summary came a second after the one before
    assert buckets[(10, T0 + 10)].reports == 1
    assert buckets[(60, T0)].reports == 4 and buckets[(900, T0)].reports == 4
    assert {r for r, _ in buckets} == {r for r, _ in RESOLUTIONS}


def test_history_is_bounded() -> None:
    now = T0 + 100 * 86400
    at = datetime.fromtimestamp(now, UTC)
    assert cutoffs(now) == {
        10: at - timedelta(hours=6),
        60: at - timedelta(hours=48),
        900: at - timedelta(days=30),
    }
    assert MAX_ROWS == 2161 + 2881 + 2881  # per uplink, at most
