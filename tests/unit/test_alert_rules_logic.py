"""When alerts fire and resolve (domain/alerts.py), with the clock in the test's hands:
a condition fires once it has held for the threshold, never twice while open, and
resolves when it no longer holds; drift repairs are counted over a sliding hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sdwan.domain.alerts import (
    AlertKind,
    Holding,
    OpenAlert,
    alert_labels,
    check_labels,
    check_scope,
    check_threshold,
    decide,
    repairs_over,
    session_down_since,
    violated_classes,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def held(subject: str, since: datetime, clears_at: datetime | None = None) -> Holding:
    return Holding(subject, subject, since, f"{subject} is down", clears_at=clears_at)


def test_an_alert_fires_when_its_condition_has_held_for_the_threshold() -> None:
    down = [held("neighbor:a", T0)]
    early = decide(
        kind=AlertKind.SESSION_DOWN,
        threshold=30,
        holding=down,
        firing=[],
        now=T0 + timedelta(seconds=29.9),
    )
    assert early.fire == [] and early.resolve == []
    assert early.next_due == T0 + timedelta(seconds=30)  # the controller wakes then
    due = decide(
        kind=AlertKind.SESSION_DOWN,
        threshold=30,
        holding=down,
        firing=[],
        now=T0 + timedelta(seconds=30),
    )
    assert [h.subject for h in due.fire] == ["neighbor:a"] and due.next_due is None


def test_an_open_alert_is_not_fired_again_and_resolves_when_it_clears() -> None:
    opened = [OpenAlert("alert-1", "neighbor:a")]
    still = decide(
        kind=AlertKind.SESSION_DOWN,
        threshold=0,
        holding=[held("neighbor:a", T0)],
        firing=opened,
        now=T0 + timedelta(hours=1),
    )
    assert still.fire == [] and still.resolve == []
    cleared = decide(kind=AlertKind.SESSION_DOWN, threshold=0, holding=[], firing=opened, now=T0)
    assert cleared.resolve == ["alert-1"]


def test_subjects_are_decided_one_by_one() -> None:
    decision = decide(
        kind=AlertKind.ROUTER_UNREACHABLE,
        threshold=10,
        holding=[held("router:a", T0), held("router:b", T0 + timedelta(seconds=8))],
        firing=[OpenAlert("x", "router:gone")],
        now=T0 + timedelta(seconds=12),
    )
    assert [h.subject for h in decision.fire] == ["router:a"]
    assert decision.resolve == ["x"]
    assert decision.next_due == T0 + timedelta(seconds=18)


def test_drift_repairs_count_over_a_sliding_hour() -> None:
    stamps = [T0 + timedelta(minutes=m) for m in (0, 10, 20, 30)]
    assert repairs_over(stamps, 4, T0 + timedelta(minutes=31)) is None
    over = repairs_over(stamps, 2, T0 + timedelta(minutes=31))
    assert over is not None
    since, clears = over
    assert since == T0 + timedelta(minutes=20)  # the third repair made it more than 2
    # two more must leave the window before only 2 are left: the one at 10 minutes
    assert clears == T0 + timedelta(minutes=70)
    assert repairs_over(stamps, 2, T0 + timedelta(minutes=70)) is None
    assert repairs_over(stamps, 2, T0 + timedelta(minutes=69)) is not None


def test_a_drift_rule_fires_at_once_and_is_due_again_when_the_count_falls() -> None:
    clears = T0 + timedelta(minutes=70)
    decision = decide(
        kind=AlertKind.DRIFT_REPAIRS,
        threshold=2,  # a count: the alert fires as soon as it holds
        holding=[held("router:a", T0, clears_at=clears)],
        firing=[],
        now=T0,
    )
    assert [h.subject for h in decision.fire] == ["router:a"] and decision.next_due == clears


def test_since_when_a_session_is_down() -> None:
    declared = T0 - timedelta(days=1)
    assert session_down_since(None, declared) == declared
    assert session_down_since(T0, declared) == T0


def test_violated_classes_come_from_the_agents_report_and_skip_what_is_malformed() -> None:
    stamp = T0.timestamp()
    classes = {
        "voice": {"state": "violated", "since": stamp, "reason": "loss 3% > 1%"},
        "bulk": {"state": "met", "since": stamp},
        "odd": {"state": "violated", "since": "yesterday"},
        "worse": "violated",
        "video": {"state": "violated", "since": stamp + 5},
    }
    found = violated_classes(classes)
    assert found == [
        ("video", T0 + timedelta(seconds=5), ""),
        ("voice", T0, "loss 3% > 1%"),
    ]


def test_thresholds_scopes_and_labels_are_checked_per_kind() -> None:
    assert check_threshold(AlertKind.SESSION_DOWN, 30.5) is None
    assert check_threshold(AlertKind.SESSION_DOWN, 8 * 86400) is not None
    assert check_threshold(AlertKind.DRIFT_REPAIRS, 3) is None
    assert "whole number" in (check_threshold(AlertKind.DRIFT_REPAIRS, 2.5) or "")
    assert check_scope(AlertKind.SESSION_DOWN, {"router": "r1", "site": "hq"}) is None
    assert check_scope(AlertKind.SESSION_DOWN, {"intent": "x"}) == "intent"
    assert check_scope(AlertKind.REPLICA_LOST, {"router": "r1"}) == "router"
    assert check_scope(AlertKind.REPLICA_LOST, {"router": None}) is None
    assert check_labels({"team": "noc", "tier_1": "yes"}) is None
    assert check_labels({"1bad": "x"}) is not None
    assert check_labels({"severity": "low"}) == ("severity", "every alert sets 'severity' itself")
    assert check_labels({f"l{i}": "" for i in range(21)}) is not None


@pytest.mark.parametrize("name", ["alertname", "severity", "kind", "project", "router"])
def test_an_alerts_own_labels_win_over_a_rules(name: str) -> None:
    labels = alert_labels(
        rule_name="down",
        severity="critical",
        kind="session_down",
        project="p",
        rule_labels={name: "mine", "team": "noc"},
        subject_labels={"router": "r1"},
    )
    assert labels[name] != "mine" and labels["team"] == "noc"
