"""The probe meter: its running counts against a brute-force recount, the dead detector,
the class decisions, and (Monte Carlo at the default rate) the detection times and the
absence of false triggers that the statistics promise."""

from __future__ import annotations

import math
import random

import pytest

from sdwan.domain.quality import (
    DEFAULT_RATE,
    DEFAULT_TIMEOUT_S,
    LONG_WINDOW_S,
    ClassLimits,
    Windows,
)
from sdwan.probe.meter import Meter
from sdwan.probe.simulate import Sim, detection_times

SMALL = Windows(
    rate=100.0,
    timeout_s=0.3,
    fast=10,
    short=50,
    latency=8,
    jitter_pairs=10,
    long=200,
    latency_k=7,
    jitter_k=8,
    dead_run=5,
)
GOLD = ClassLimits("gold", loss_pct=2.0, latency_ms=50.0, jitter_ms=10.0)


def committed(meter: Meter) -> list[float]:
    """Every committed fate, oldest first (RTT, or -1 for lost)."""
    return [
        meter.rtt[s & meter.mask]
        for s in range(max(0, meter.head - meter.windows.long), meter.head)
    ]


def last(meter: Meter, n: int) -> list[float]:
    """The last ``n`` committed fates."""
    return [meter.rtt[s & meter.mask] for s in range(max(0, meter.head - n), meter.head)]


def test_running_counts_match_a_recount_at_every_probe() -> None:
    """Lost probes per window, RTTs above the latency limit and disjoint-pair IPDVs above
    the jitter limit, kept by adding and dropping one probe at a time, equal a count
    from scratch after every probe: through the start (windows reaching back before
    probe 0) and through several turns of the ring."""
    rng = random.Random(7)
    meter = Meter(SMALL, (GOLD,))
    sim = Sim(meter, SMALL.rate)
    limit, jitter = 0.050, 0.010
    for _ in range(3 * (meter.mask + 1)):
        fate = None if rng.random() < 0.15 else rng.choice([0.001, 0.02, 0.04, 0.06, 0.09])
        sim.step(fate)
        head, ring, mask = meter.head, meter.rtt, meter.mask

        assert meter.fast_lost == sum(v < 0 for v in last(meter, SMALL.fast))
        assert meter.short_lost == sum(v < 0 for v in last(meter, SMALL.short))
        assert meter.long_lost == sum(v < 0 for v in last(meter, SMALL.long))
        gold = meter.classes[0]
        assert gold.latency_above == sum(v > limit for v in last(meter, SMALL.latency))
        pairs = [
            abs(ring[s & mask] - ring[(s - 1) & mask])
            for s in range(max(1, head - 2 * SMALL.jitter_pairs), head)
            if s % 2 == 1 and ring[s & mask] >= 0 and ring[(s - 1) & mask] >= 0
        ]
        assert gold.jitter_above == sum(d > jitter for d in pairs)


def test_fates_commit_in_order_and_late_or_duplicate_answers_are_ignored() -> None:
    meter = Meter(SMALL)
    for seq in range(3):
        assert meter.sent(seq * 0.01, 100.0 + seq * 0.01) == seq
    meter.answer(2, 32, 100.025, 0.0, 0.025)  # overtakes 0 and 1: waits for them
    assert meter.head == 0
    meter.answer(0, 32, 100.004, 0.0, 0.026)
    assert meter.head == 1  # 0 committed, 1 still open
    meter.advance(0.01 + SMALL.timeout_s)  # 1 times out: 1 lost, then 2 commits
    assert meter.head == 3
    assert committed(meter) == [pytest.approx(0.004), -1.0, pytest.approx(0.005)]
    meter.answer(1, 32, 100.5, 0.0, 0.5)  # late: 1 stays lost
    meter.answer(2, 32, 100.5, 0.0, 0.5)  # a duplicate
    meter.answer(7, 32, 100.5, 0.0, 0.5)  # never sent
    assert committed(meter) == [pytest.approx(0.004), -1.0, pytest.approx(0.005)]


def test_reflector_residence_is_subtracted_and_a_16_bit_sequence_wraps() -> None:
    meter = Meter(SMALL)
    for seq in range(70_000):
        meter.sent(seq * 0.001, 100.0 + seq * 0.001)
        meter.answer(seq & 0xFFFF, 16, 100.0 + seq * 0.001 + 0.0021, 0.0001, seq * 0.001)
    assert meter.head == 70_000
    assert meter.stats(SMALL.short).latency_ms == pytest.approx(2.0)
    assert meter.stats(SMALL.short).loss_pct == 0.0


def test_stats_report_loss_median_and_ipdv() -> None:
    meter = Meter(SMALL)
    sim = Sim(meter, SMALL.rate)
    sim.run([0.010, 0.020, None, 0.030, 0.010] * 40)  # 200 probes: 20 % lost
    sim.drain(1.0)
    stats = meter.stats(SMALL.long)
    assert (stats.sent, stats.answered, stats.loss_pct) == (200, 160, 20.0)
    assert stats.latency_ms == pytest.approx(15.0)  # median of 10, 20, 30, 10
    # consecutive answered pairs per cycle: |20-10| and |10-30| (30 -> 10 after a gap
    # of one lost probe does not count), then |10-10| into the next cycle
    assert stats.jitter_ms == pytest.approx((10 + 20 + 0) / 3, abs=0.2)


# -- the dead detector --------------------------------------------------------------


def test_a_blackout_is_dead_after_the_run_and_up_again_after_the_hold() -> None:
    meter = Meter(SMALL, (GOLD,), up_hold=1.0)
    sim = Sim(meter, SMALL.rate)
    sim.run([0.001] * 100)
    assert meter.state == "up"
    dead_after = sim.until(lambda: meter.state == "dead", lambda: None, limit=5)
    # the run's last probe was sent (run - 1) periods after the first lost one and is
    # lost one timeout later (the first lost probe went out right at the blackout)
    assert dead_after == pytest.approx(
        SMALL.timeout_s + (SMALL.dead_run - 1) / SMALL.rate, abs=0.02
    )
    assert meter.classes[0].state == "violated"
    assert meter.classes[0].reason.startswith("dead")
    back = sim.until(lambda: meter.state == "up", lambda: 0.001, limit=5)
    assert 1.0 <= back <= 1.0 + 0.2  # the hold, then the next evaluation


def test_a_latency_jump_below_the_timeout_is_never_dead() -> None:
    meter = Meter(Windows.for_rate(DEFAULT_RATE), (GOLD,))
    sim = Sim(meter, DEFAULT_RATE)
    sim.run([0.001] * 1000)
    sim.run([DEFAULT_TIMEOUT_S - 0.01] * 5000)  # 15 s just under the timeout
    assert meter.state == "up"
    assert meter.classes[0].state == "violated"
    assert meter.classes[0].reason.startswith("latency")


def test_answers_resuming_briefly_keep_the_uplink_dead() -> None:
    meter = Meter(SMALL, up_hold=1.0)
    sim = Sim(meter, SMALL.rate)
    sim.run([0.001] * 50 + [None] * 50)
    assert meter.state == "dead"
    states = []
    for _ in range(5):  # 0.5 s of answers, then a new blackout: the hold starts over
        sim.run([0.001] * 50 + [None] * 10)
        states.append(meter.state)
    sim.run([0.001] * 150)
    states.append(meter.state)
    assert states == ["dead"] * 5 + ["up"]


# -- class decisions -----------------------------------------------------------------


def test_a_class_is_met_again_only_after_a_long_window_without_a_test_firing() -> None:
    meter = Meter(SMALL, (GOLD,))
    sim = Sim(meter, SMALL.rate)
    sim.run([0.001] * 300)
    assert meter.classes[0].state == "met"
    sim.run([None, None, 0.001] * 10)  # 67 % loss: 6 of 10 in the fast window fire
    sim.drain(SMALL.timeout_s)
    gold = meter.classes[0]
    assert gold.state == "violated"
    assert gold.reason.startswith("loss ")
    fired = gold.since
    back = sim.until(lambda: gold.state == "met", lambda: 0.001, limit=30)
    assert LONG_WINDOW_S <= back <= LONG_WINDOW_S + 1.0
    assert gold.since > fired
    assert gold.reason.startswith("loss 0.0 % <= 2 %")


def test_a_class_without_limits_is_met_and_new_classes_are_counted_from_the_ring() -> None:
    meter = Meter(SMALL, (ClassLimits("any"),))
    sim = Sim(meter, SMALL.rate)
    sim.run([0.070] * 300)
    assert meter.classes[0].state == "met"
    meter.set_classes((ClassLimits("any"), GOLD), sim.now, 0.0)
    assert [c.state for c in meter.classes] == ["met", "unknown"]
    assert meter.classes[1].latency_above == SMALL.latency  # every RTT is above 50 ms
    sim.step(0.070)
    assert meter.classes[1].state == "violated"


# -- the statistics, realised (Monte Carlo at the default rate) --------------------------


def loss_detection(loss: float, onsets: int, seed: int) -> list[float]:
    """Seconds from the start of ``loss`` to a 2 % class being violated."""
    return detection_times(
        Windows.for_rate(DEFAULT_RATE),
        ClassLimits("c", loss_pct=2.0),
        lambda rng: None if rng.random() < loss else 0.001,
        onsets=onsets,
        seed=seed,
    )


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def test_five_percent_loss_is_caught_within_2_5_s_at_the_95th_percentile() -> None:
    assert p95(loss_detection(0.05, onsets=100, seed=1)) <= 2.5


def test_twenty_percent_loss_is_caught_within_0_6_s_at_the_95th_percentile() -> None:
    assert p95(loss_detection(0.20, onsets=100, seed=2)) <= 0.6


def test_one_percent_loss_does_not_trigger_a_two_percent_class() -> None:
    """Two minutes of 1 % random loss: the class stays met (the bound for ten minutes
    is 5e-5; a seeded run is one draw of it)."""
    rng = random.Random(3)
    meter = Meter(Windows.for_rate(DEFAULT_RATE), (ClassLimits("c", loss_pct=2.0),))
    sim = Sim(meter, DEFAULT_RATE)
    sim.run(None if rng.random() < 0.01 else 0.001 for _ in range(int(DEFAULT_RATE * 120)))
    assert meter.classes[0].state == "met"
    assert meter.state == "up"
    loss = meter.stats(meter.windows.long).loss_pct
    assert loss is not None and 0.5 < loss < 1.5  # the loss was there


def test_latency_above_the_limit_is_caught_within_half_a_second() -> None:
    meter = Meter(Windows.for_rate(DEFAULT_RATE), (GOLD,))
    sim = Sim(meter, DEFAULT_RATE)
    sim.run([0.001] * int(DEFAULT_RATE * 3))
    caught = sim.until(lambda: meter.classes[0].state == "violated", lambda: 0.151, limit=5)
    assert caught <= 0.5
    assert meter.classes[0].reason == "latency 151.0 ms > 50 ms"


def test_jitter_inside_the_class_never_triggers_and_twice_the_limit_does() -> None:
    rng = random.Random(4)
    meter = Meter(Windows.for_rate(DEFAULT_RATE), (GOLD,))
    sim = Sim(meter, DEFAULT_RATE)
    # normal RTTs whose mean absolute difference is 9 ms (the class allows 10 ms)
    sigma = 0.009 * math.sqrt(math.pi) / 2
    sim.run(max(0.0, 0.030 + rng.gauss(0, sigma)) for _ in range(20_000))
    assert meter.classes[0].state == "met"
    sigma *= 2 / 0.9  # now 20 ms
    caught = sim.until(
        lambda: meter.classes[0].state == "violated",
        lambda: max(0.0, 0.030 + rng.gauss(0, sigma)),
        limit=10,
    )
    assert caught <= 3.0
    assert meter.classes[0].reason.startswith("jitter ")
