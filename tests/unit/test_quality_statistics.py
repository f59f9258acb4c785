"""The binomial tails behind the probe agent's decisions, and its defaults: they are
what bench/sla_statistics.py derives from the targets."""

from __future__ import annotations

import importlib.util
import math
import sys
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import pytest

from sdwan.domain import quality
from sdwan.domain.quality import (
    ClassLimits,
    QualityInputError,
    Windows,
    binomial_tail,
    critical_count,
    crossing_bound,
    dead_run,
    detection_count,
    loss_limits,
)

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sla_statistics.py"


def exact_tail(n: int, k: int, p: Fraction) -> Fraction:
    return sum((math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1)), Fraction(0))


@pytest.mark.parametrize(
    ("n", "k", "p"),
    [(10, 3, "1/10"), (82, 11, "1/100"), (740, 28, "1/100"), (76, 64, "1/2"), (30, 0, "1/5")],
)
def test_binomial_tail_matches_the_exact_sum(n: int, k: int, p: str) -> None:
    exact = float(exact_tail(n, k, Fraction(p)))
    assert binomial_tail(n, k, float(Fraction(p))) == pytest.approx(exact, rel=1e-9)


def test_tail_edges() -> None:
    assert binomial_tail(5, 6, 0.5) == 0.0
    assert binomial_tail(5, 1, 0.0) == 0.0
    assert binomial_tail(5, 5, 1.0) == 1.0


def test_critical_count_is_the_smallest_count_within_alpha() -> None:
    k = critical_count(740, 0.01, 202_200, 5e-5)
    assert crossing_bound(740, k, 0.01, 202_200) <= 5e-5
    assert crossing_bound(740, k - 1, 0.01, 202_200) > 5e-5
    assert critical_count(100, 0.0, 1000, 1e-4) == 1  # no loss allowed: one loss fires


def test_detection_count_and_dead_run() -> None:
    n = detection_count(11, 0.2)
    assert binomial_tail(n, 11, 0.2) >= 0.95 > binomial_tail(n - 1, 11, 0.2)
    run = dead_run(0.5, 202_200, 1e-4)
    assert 0.5**run * (1 + 202_200 * 0.5) <= 1e-4 < 0.5 ** (run - 1) * (1 + 202_200 * 0.5)


def test_windows_at_the_default_rate() -> None:
    w = Windows.for_rate(quality.DEFAULT_RATE)
    assert (w.fast, w.short, w.latency, w.jitter_pairs, w.long) == (82, 740, 76, 385, 3370)
    assert (w.latency_k, w.jitter_k, w.dead_run) == (64, 251, 30)
    assert loss_limits(w, 2.0) == (11, 28)
    assert loss_limits(w, 100.0) == (w.fast + 1, w.short + 1)  # never


def sla_statistics() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sla_statistics", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_defaults_are_what_the_derivation_gives() -> None:
    bench = sla_statistics()
    design = bench.derive()
    assert design.rate == quality.DEFAULT_RATE
    assert design.timeout_s == quality.DEFAULT_TIMEOUT_S
    for name, seconds in bench.window_seconds(design).items():
        assert getattr(quality, name) == seconds, name
    w = Windows.for_rate(design.rate, design.timeout_s)
    assert (w.fast, w.short) == (design.fast.probes, design.short.probes)
    assert (w.latency, w.latency_k) == design.latency
    assert (w.jitter_pairs, w.jitter_k) == design.jitter_pairs
    assert w.dead_run == design.dead_run
    assert loss_limits(w, 2.0) == (design.fast.count, design.short.count)


def test_a_slower_rate_would_miss_a_target() -> None:
    assert sla_statistics().design_at(int(quality.DEFAULT_RATE) - 1) is None


def test_class_parsing_names_the_field() -> None:
    assert ClassLimits.from_json(
        {"name": "gold", "loss_pct": 1, "latency_ms": None}
    ) == ClassLimits("gold", 1.0, None, None)
    for body, field in [
        ({"name": ""}, "c.name"),
        ({"name": "g", "loss_pct": 101}, "c.loss_pct"),
        ({"name": "g", "latency_ms": "50"}, "c.latency_ms"),
        ({"name": "g", "jitter_ms": -1}, "c.jitter_ms"),
        ({"name": "g", "loss_pct": True}, "c.loss_pct"),
        ({"name": "g", "colour": 1}, "c.colour"),
        ([], "c"),
    ]:
        with pytest.raises(QualityInputError) as caught:
            ClassLimits.from_json(body, "c")
        assert caught.value.field == field
