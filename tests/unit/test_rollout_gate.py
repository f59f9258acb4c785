"""The rollout gate's judge (pure): each check fails on what got worse and only on
that; snapshots survive JSON; custom checks parse or say why not."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from sdwan.rollout.gate import CustomCheck, GateFailure, HealthSnapshot
from sdwan.rollout.gate_judge import judge
from sdwan.rollout.gate_model import IntentHealth, NeighborHealth, PathHealth, RouterHealth

UP, DOWN = "ESTABLISHED", "ACTIVE"
PREFIX, OTHER = "198.51.100.0/24", "203.0.113.0/24"
PREDICTED = {"uplink": "mpls", "via": "uplink mpls (198.18.11.11)", "neighbor": "198.18.11.11"}


def _router(**changes: object) -> RouterHealth:
    base = RouterHealth(
        "r-1",
        "R1",
        None,
        {"n-1": NeighborHealth("198.18.0.2", UP), "n-2": NeighborHealth("198.18.0.6", DOWN)},
        frozenset({PREFIX}),
        frozenset({PREFIX}),
        frozenset({PREFIX, OTHER}),
        frozenset({PREFIX, OTHER}),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _path(verdict: str = "VERIFIED", router: str = "R1", reason: str = "") -> PathHealth:
    actual = {"uplink": "inet", "neighbor": "198.18.12.12", "next_hop": "198.18.12.12"}
    return PathHealth(router, OTHER, verdict, reason, PREDICTED, actual)


def _intent(verdict: str = "VERIFIED", *paths: PathHealth) -> IntentHealth:
    return IntentHealth("i-1", "paris/to-dc", verdict, f"{verdict.lower()} detail", paths)


def _snap(router: RouterHealth | None = None, intent: IntentHealth | None = None) -> HealthSnapshot:
    router = router or _router()
    intents = {intent.id: intent} if intent is not None else {}
    return HealthSnapshot(1700000000.5, {router.id: router}, intents)


def _judge(
    before: HealthSnapshot, after: HealthSnapshot, *checks: str
) -> list[tuple[str | None, str]]:
    found = judge(before, after, checks=[CustomCheck.parse(c) for c in checks])
    return [(f.router, f.check) for f in found]


def test_an_unchanged_snapshot_passes() -> None:
    snap = _snap(intent=_intent("VERIFIED", _path()))
    assert _judge(snap, snap) == []


def test_a_session_that_was_up_and_went_down_fails_naming_router_and_neighbor() -> None:
    after = _router(neighbors={"n-1": NeighborHealth("198.18.0.2", DOWN)})
    (failure,) = judge(_snap(), _snap(after))
    assert (failure.router, failure.check) == ("R1", "session")
    assert failure.detail == "neighbor 198.18.0.2 was ESTABLISHED, now ACTIVE"
    assert (failure.observed, failure.predicted) == (DOWN, UP)


def test_sessions_not_up_before_deleted_or_disabled_by_the_change_are_not_judged() -> None:
    came_up = _router(
        neighbors={"n-1": NeighborHealth("198.18.0.2", UP), "n-2": NeighborHealth("198.18.0.6", UP)}
    )
    assert _judge(_snap(), _snap(came_up)) == []
    deleted = _router(neighbors={"n-2": NeighborHealth("198.18.0.6", DOWN)})  # n-1 is gone
    assert _judge(_snap(), _snap(deleted)) == []
    disabled = _router(neighbors={"n-1": NeighborHealth("198.18.0.2", "IDLE", enabled=False)})
    assert _judge(_snap(), _snap(disabled)) == []
    remade_down = _router(neighbors={"n-9": NeighborHealth("198.18.0.2", DOWN)})
    assert _judge(_snap(), _snap(remade_down)) == [("R1", "session")]  # same peer, new id
    remade_up = _router(neighbors={"n-9": NeighborHealth("198.18.0.2", UP)})
    assert _judge(_snap(), _snap(remade_up)) == []
    went_up_now_down = _router(neighbors={"n-2": NeighborHealth("198.18.0.6", UP)})
    assert _judge(_snap(went_up_now_down), _snap()) == [("R1", "session")]


def test_a_router_that_does_not_answer_after_the_wave_fails() -> None:
    silent = _router(error="gobgpd at unix:///r1.sock did not answer within 2 s")
    found = judge(_snap(), _snap(silent))
    assert [(f.router, f.check) for f in found] == [("R1", "reachable")]
    assert (
        found[0].detail == "router unreachable: gobgpd at unix:///r1.sock did not answer within 2 s"
    )
    assert _judge(_snap(silent), _snap()) == []  # answering again is no failure
    (again,) = judge(_snap(silent), _snap(silent))
    assert "nor before the wave" in again.detail


def test_a_prefix_announced_before_and_still_desired_must_stay_announced() -> None:
    lost = _router(originated=frozenset())
    (failure,) = judge(_snap(), _snap(lost))
    assert (failure.router, failure.check, failure.predicted) == ("R1", "announced", PREFIX)
    assert PREFIX in failure.detail
    withdrawn = _router(originated=frozenset(), announcements=frozenset())  # the change did it
    assert _judge(_snap(), _snap(withdrawn)) == []
    never = _router(originated=frozenset())
    assert _judge(_snap(never), _snap(never)) == []


def test_an_intent_that_turns_worse_fails() -> None:
    for was, now in (
        ("VERIFIED", "DEGRADED"),
        ("VERIFIED", "VIOLATED"),
        ("DEGRADED", "VIOLATED"),
        ("VERIFIED", "UNKNOWN"),
    ):
        found = judge(_snap(intent=_intent(was)), _snap(intent=_intent(now)))
        assert [(f.router, f.check) for f in found] == [(None, "intent")], (was, now)
        assert found[0].detail == f"intent paris/to-dc was {was}, now {now}: {now.lower()} detail"
        assert (found[0].observed, found[0].predicted) == (now, was)


def test_an_intent_that_stays_improves_was_unhealthy_or_is_deleted_passes() -> None:
    for was, now in (
        ("DEGRADED", "DEGRADED"),
        ("DEGRADED", "VERIFIED"),
        ("VIOLATED", "VIOLATED"),
        ("VIOLATED", "UNKNOWN"),
        ("PENDING", "VIOLATED"),
    ):
        assert _judge(_snap(intent=_intent(was)), _snap(intent=_intent(now))) == [], (was, now)
    assert _judge(_snap(intent=_intent("VERIFIED")), _snap()) == []


def test_a_verified_prediction_that_no_longer_holds_fails_with_observed_and_predicted() -> None:
    before = _snap(intent=_intent("VERIFIED", _path()))
    broken = _path("VIOLATED", reason="gobgpd's best path is from 198.18.12.12")
    found = judge(before, _snap(intent=_intent("VIOLATED", broken)))
    assert [(f.router, f.check) for f in found] == [(None, "intent"), ("R1", "prediction")]
    prediction = found[1]
    assert prediction.predicted == PREDICTED and prediction.observed == broken.actual
    moved = replace(broken, predicted={"uplink": "inet"})  # the prediction that held counts
    assert judge(before, _snap(intent=_intent("VIOLATED", moved)))[1].predicted == PREDICTED
    assert OTHER in prediction.detail and "198.18.12.12" in prediction.detail
    # a path that did not hold before is not judged
    was_degraded = _snap(intent=_intent("VIOLATED", _path("DEGRADED")))
    assert _judge(was_degraded, _snap(intent=_intent("VIOLATED", broken))) == []


def test_custom_checks_look_at_the_snapshot_after_the_wave() -> None:
    snap = _snap()
    assert _judge(snap, snap, f"rib_has:R1:{OTHER}", "rib_has:r-1:198.51.100.0/24") == []
    assert _judge(snap, snap, f"rib_lacks:R1:{OTHER}") == [("R1", "rib_lacks")]
    gone = _snap(_router(best=frozenset({PREFIX})))
    found = judge(snap, gone, checks=[CustomCheck.parse(f"rib_has:R1:{OTHER}")])
    assert [(f.router, f.check, f.observed) for f in found] == [("R1", "rib_has", False)]
    assert found[0].detail == f"{OTHER} has no best path in R1's RIB"
    assert _judge(snap, gone, f"rib_lacks:R1:{OTHER}") == []


def test_a_custom_check_the_snapshot_cannot_answer_fails() -> None:
    snap = _snap()
    assert _judge(snap, snap, f"rib_has:R9:{OTHER}") == [("R9", "rib_has")]
    assert _judge(snap, snap, "rib_lacks:R1:192.0.2.0/24") == [("R1", "rib_lacks")]
    silent = _snap(_router(error="no answer", looked_up=frozenset()))
    assert ("R1", "rib_has") in _judge(snap, silent, f"rib_has:R1:{OTHER}")


def test_snapshots_and_failures_survive_json() -> None:
    snap = _snap(intent=_intent("DEGRADED", _path(), _path("DEGRADED", router="R2")))
    text = json.dumps(snap.to_json())
    assert HealthSnapshot.from_json(json.loads(text)) == snap
    silent = _snap(_router(error="no answer"))
    assert HealthSnapshot.from_json(json.loads(json.dumps(silent.to_json()))) == silent
    failure = GateFailure(
        "R1", "session", "neighbor 198.18.0.2 was ESTABLISHED, now ACTIVE", DOWN, UP
    )
    assert json.loads(json.dumps(failure.to_json())) == {
        "router": "R1",
        "check": "session",
        "detail": "neighbor 198.18.0.2 was ESTABLISHED, now ACTIVE",
        "observed": DOWN,
        "predicted": UP,
    }


def test_custom_checks_parse() -> None:
    assert CustomCheck.parse(" rib_has:R1:198.51.100.0/24 ") == CustomCheck("rib_has", "R1", PREFIX)
    assert CustomCheck.parse("rib_lacks:edge-2:2001:db8:0::/32") == CustomCheck(
        "rib_lacks", "edge-2", "2001:db8::/32"
    )
    assert str(CustomCheck.parse("rib_has:R1:198.51.100.0/24")) == "rib_has:R1:198.51.100.0/24"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rib_has", "expected KIND:ROUTER:PREFIX"),
        ("rib_has:R1", "expected KIND:ROUTER:PREFIX"),
        ("ping:R1:198.51.100.0/24", "unknown kind 'ping'"),
        ("rib_has::198.51.100.0/24", "no router"),
        ("rib_has:R1:198.51.100.0/33", "'198.51.100.0/33' is not a prefix"),
        ("rib_has:R1:198.51.100.1/24", "has host bits set"),
        ("rib_has:R1:", "'' is not a prefix"),
    ],
)
def test_a_bad_custom_check_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="custom check") as caught:
        CustomCheck.parse(text)
    assert message in str(caught.value)
