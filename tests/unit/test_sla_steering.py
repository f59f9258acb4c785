"""The steering rules of SLA classes (sdwan.domain.sla): demote at once, return after
a hold-down, a minimum time between moves, flap damping, nothing meeting the class."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sdwan.domain.sla import (
    DEAD_REASON,
    ClassReport,
    ClassVerdict,
    SlaClass,
    SlaClassSpec,
    Steering,
    UplinkQuality,
    effective_tiers,
    exceeds,
    steer,
)

GOLD = SlaClass("gold", loss_pct=2.0, latency_ms=50.0, hold_down=30.0, min_interval=10.0)
TIERS = [["mpls"], ["inet"], ["lte"]]


def up(
    state: ClassVerdict, *, loss: float = 0.0, latency: float = 5.0, reason: str = ""
) -> UplinkQuality:
    return UplinkQuality(
        state="up",
        loss_pct=loss,
        latency_ms=latency,
        jitter_ms=0.1,
        classes={"gold": ClassReport(state, 0.0, reason)},
    )


MET = up(ClassVerdict.MET)
BAD = up(ClassVerdict.VIOLATED, loss=6.1, reason="loss 6.1 % > 2 %")
DEAD = UplinkQuality(state="dead")


def test_a_violating_primary_is_demoted_at_once_below_the_tiers_that_meet() -> None:
    decision = steer(TIERS, GOLD, {"mpls": BAD, "inet": MET, "lte": MET}, Steering(), now=100.0)
    assert [m.kind for m in decision.moves] == ["demote"]
    assert decision.moves[0].uplink == "mpls"
    assert decision.moves[0].reason == "loss 6.1 % > 2 %"
    assert decision.tiers == [["inet"], ["lte"], ["mpls"]]
    assert decision.note == ""


def test_nothing_moves_while_every_uplink_meets_or_is_unmeasured() -> None:
    quality = {"mpls": MET, "inet": UplinkQuality()}  # lte: no report at all
    decision = steer(TIERS, GOLD, quality, Steering(), now=100.0)
    assert decision.moves == []
    assert decision.tiers == TIERS


def test_an_unmeasured_uplink_is_never_demoted_even_when_unknown_for_the_class() -> None:
    unknown = up(ClassVerdict.UNKNOWN)
    decision = steer(TIERS, GOLD, {"mpls": unknown}, Steering(), now=1.0)
    assert decision.moves == []


def test_return_only_after_meeting_the_class_for_the_whole_hold_down() -> None:
    first = steer(TIERS, GOLD, {"mpls": BAD, "inet": MET}, Steering(), now=0.0)
    state = first.steering
    # meets again from t=20; a violation at t=35 resets the clock
    for now, quality in ((20.0, MET), (35.0, BAD), (40.0, MET), (69.0, MET)):
        decision = steer(TIERS, GOLD, {"mpls": quality, "inet": MET}, state, now=now)
        assert decision.moves == [], now
        state = decision.steering
    decision = steer(TIERS, GOLD, {"mpls": MET, "inet": MET}, state, now=70.0)
    assert [(m.uplink, m.kind) for m in decision.moves] == [("mpls", "return")]
    assert decision.tiers == TIERS


def test_a_quality_in_the_hysteresis_band_keeps_the_demotion_and_its_clock_stopped() -> None:
    state = steer(TIERS, GOLD, {"mpls": BAD}, Steering(), now=0.0).steering
    state = steer(TIERS, GOLD, {"mpls": MET}, state, now=10.0).steering
    band = up(ClassVerdict.UNKNOWN)  # neither violated (short) nor met (long)
    state = steer(TIERS, GOLD, {"mpls": band}, state, now=30.0).steering
    assert state.demoted["mpls"].met_since is None
    assert steer(TIERS, GOLD, {"mpls": MET}, state, now=45.0).moves == []


def test_minimum_time_between_moves_holds_back_a_new_demotion_but_not_a_dead_path() -> None:
    state = steer(TIERS, GOLD, {"mpls": BAD}, Steering(), now=0.0).steering
    state = steer(TIERS, GOLD, {"mpls": MET}, state, now=1.0).steering
    returned = steer(TIERS, GOLD, {"mpls": MET}, state, now=31.0)
    assert [m.kind for m in returned.moves] == ["return"]
    soon = steer(TIERS, GOLD, {"mpls": BAD}, returned.steering, now=35.0)
    assert soon.moves == []  # 4 s after its return: not yet
    dead = steer(TIERS, GOLD, {"mpls": DEAD}, returned.steering, now=35.0)
    assert [(m.kind, m.reason) for m in dead.moves] == [("demote", DEAD_REASON)]
    later = steer(TIERS, GOLD, {"mpls": BAD}, returned.steering, now=41.0)
    assert [m.kind for m in later.moves] == ["demote"]


def test_an_uplink_that_flaps_waits_twice_as_long_each_time_up_to_the_cap() -> None:
    sla = SlaClass("gold", loss_pct=2.0, hold_down=30.0, min_interval=1.0, max_hold_down=100.0)
    state, now, holds = Steering(), 0.0, []
    for _ in range(4):
        state = steer(TIERS, sla, {"mpls": BAD}, state, now=now).steering
        holds.append(state.demoted["mpls"].hold_down)
        now += 1.0
        state = steer(TIERS, sla, {"mpls": MET}, state, now=now).steering
        now += state.demoted["mpls"].hold_down
        decision = steer(TIERS, sla, {"mpls": MET}, state, now=now)
        assert [m.kind for m in decision.moves] == ["return"]
        state = decision.steering
        now += 2.0
    assert holds == [30.0, 60.0, 100.0, 100.0]
    # a quiet damping window forgets the flaps
    now += sla.damping_window
    state = steer(TIERS, sla, {"mpls": MET}, state, now=now).steering
    state = steer(TIERS, sla, {"mpls": BAD}, state, now=now + 1).steering
    assert state.demoted["mpls"].hold_down == 30.0


def test_when_nothing_meets_the_class_the_best_measured_leads_and_the_note_says_so() -> None:
    slow = up(ClassVerdict.VIOLATED, latency=80.0, reason="latency 80 ms > 50 ms")
    lossy = up(ClassVerdict.VIOLATED, loss=20.0, reason="loss 20.0 % > 2 %")
    quality = {"mpls": lossy, "inet": slow, "lte": DEAD}
    decision = steer(TIERS, GOLD, quality, Steering(), now=5.0)
    assert decision.tiers == [["inet"], ["mpls"], ["lte"]]  # 80/50 < 20/2 < dead
    assert "no uplink meets gold" in decision.note and "inet" in decision.note


def test_effective_tiers_keep_sharing_tiers_and_drop_emptied_ones() -> None:
    tiers = [["mpls", "inet"], ["lte"]]
    state = steer(tiers, GOLD, {"inet": BAD, "mpls": MET}, Steering(), now=0.0).steering
    assert effective_tiers(tiers, state, {"inet": BAD}, GOLD) == [["mpls"], ["lte"], ["inet"]]
    both = steer(tiers, GOLD, {"inet": BAD, "mpls": DEAD}, Steering(), now=0.0).steering
    assert effective_tiers(tiers, both, {"inet": BAD, "mpls": DEAD}, GOLD) == [
        ["lte"],
        ["inet"],
        ["mpls"],
    ]


def test_uplinks_no_longer_in_the_intent_are_forgotten() -> None:
    state = steer(TIERS, GOLD, {"lte": BAD}, Steering(), now=0.0).steering
    assert "lte" in state.demoted
    after = steer([["mpls"], ["inet"]], GOLD, {}, state, now=1.0)
    assert "lte" not in after.steering.demoted


def test_exceeds_says_which_limit_for_people() -> None:
    quality = UplinkQuality(state="up", loss_pct=6.1, latency_ms=150.0, jitter_ms=0.2)
    assert exceeds(quality, GOLD) == ["loss 6.1 % > 2.0 %", "latency 150 ms > 50.0 ms"]


def test_a_class_needs_a_limit_and_sane_times() -> None:
    with pytest.raises(ValidationError, match="at least one of"):
        SlaClassSpec(name="gold")
    with pytest.raises(ValidationError):
        SlaClassSpec(name="gold", loss_pct=-1.0)
    with pytest.raises(ValidationError):
        SlaClassSpec(name="gold", loss_pct=1.0, hold_down_s=0.5)
    spec = SlaClassSpec(name="gold", loss_pct=1.0, latency_ms=50.0)
    assert (spec.hold_down_s, spec.min_interval_s) == (30.0, 10.0)


def test_the_order_of_demoted_uplinks_is_kept_between_moves() -> None:
    """Quality drifting between two moves reorders nothing: the compiled policy changes
    only on a move."""
    slow = up(ClassVerdict.VIOLATED, latency=80.0, reason="latency 80 ms > 50 ms")
    lossy = up(ClassVerdict.VIOLATED, loss=20.0, reason="loss 20.0 % > 2 %")
    first = steer(TIERS, GOLD, {"mpls": lossy, "inet": slow, "lte": MET}, Steering(), now=0.0)
    assert first.tiers == [["lte"], ["inet"], ["mpls"]]
    assert first.steering.order == ("inet", "mpls")
    worse = up(ClassVerdict.VIOLATED, latency=500.0, reason="latency 500 ms > 50 ms")
    later = steer(TIERS, GOLD, {"mpls": lossy, "inet": worse, "lte": MET}, first.steering, 5.0)
    assert later.moves == [] and later.tiers == first.tiers  # inet worse now: kept
    moved = steer(TIERS, GOLD, {"mpls": lossy, "inet": worse, "lte": DEAD}, later.steering, 6.0)
    assert [m.uplink for m in moved.moves] == ["lte"]  # a move: ranked anew
    assert moved.tiers == [["mpls"], ["inet"], ["lte"]]


def test_the_stored_form_reads_back_and_garbage_reads_as_nothing_demoted() -> None:
    state = steer(TIERS, GOLD, {"mpls": BAD, "inet": MET}, Steering(), now=3.0).steering
    state = steer(TIERS, GOLD, {"mpls": MET, "inet": MET}, state, now=4.0).steering
    assert state.demoted["mpls"].met_since == 4.0
    assert Steering.from_json(state.to_json()) == state
    assert Steering.from_json({"demoted": {"mpls": {"since": "x"}}}) == Steering()
    assert Steering.from_json(None) == Steering()
