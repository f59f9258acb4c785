"""Path quality: SLA classes, and the statistics that decide them. Pure.

An uplink is probed ``rate`` times a second; a probe is either answered (its round-trip
time is a latency sample) or lost (no answer within the timeout). Every decision is a
counting test over a sliding window of the most recent probes, with a threshold taken
from a binomial tail:

- loss: ``k`` lost among the last ``n`` probes, where ``k`` is the smallest count that
  loss at half the class's limit (``NOISE_SHARE``) reaches with probability at most
  ``ALPHA / 2`` in ``HORIZON_S`` seconds of evaluation after every probe (two loss
  windows, fast and short, share ``ALPHA``);
- latency: ``k`` round-trip times above the limit among the last ``n`` probes (a sign
  test: if the median RTT is within the limit, each sample exceeds it with probability
  at most 1/2, whatever the distribution);
- jitter: ``k`` absolute RTT differences above the limit among the last ``n``
  disjoint pairs of consecutive probes (a sign test on the IPDV; disjoint pairs keep
  the samples independent);
- dead: ``run`` consecutive lost probes, where a path that loses half of its probes
  (``P_DEAD_NULL``) shows such a run with probability at most ``ALPHA`` in the horizon.

The defaults (rate, timeout, window lengths) are derived in bench/sla_statistics.py
and explained in docs/intent.md ("Path quality: probes and statistics"); a unit test
checks that the constants here are what that derivation gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

__all__ = [
    "ALPHA",
    "DEFAULT_RATE",
    "DEFAULT_TIMEOUT_S",
    "HORIZON_S",
    "ClassLimits",
    "ClassState",
    "QualityInputError",
    "UplinkState",
    "Windows",
    "binomial_tail",
    "critical_count",
    "crossing_bound",
    "dead_run",
    "detection_count",
    "loss_limits",
]

ClassState = Literal["met", "violated", "unknown"]
UplinkState = Literal["up", "dead", "unknown"]

# -- the design's inputs (see the module doc) ----------------------------------------
ALPHA = 1e-4  # false trigger per uplink, class and test in HORIZON_S
HORIZON_S = 600.0  # "never in 10 minutes"
NOISE_SHARE = 0.5  # loss at half a class's limit is noise: it must not trigger
P_DEAD_NULL = 0.5  # a path that answers half of its probes is not dead

# -- what the derivation gives (bench/sla_statistics.py) -----------------------------
DEFAULT_RATE = 337.0  # probes per second per uplink
DEFAULT_TIMEOUT_S = 0.30  # unanswered after this: lost
FAST_WINDOW_S = 0.243  # loss, catches 10x the class limit
SHORT_WINDOW_S = 2.196  # loss, catches 2.5x the class limit
LATENCY_WINDOW_S = 0.226  # RTT above the limit
JITTER_WINDOW_S = 2.285  # IPDV above the limit (pairs of probes)
LONG_WINDOW_S = 10.0  # "met" again: the class holds over this window
UP_HOLD_S = 2.0  # dead -> up only after answers for this long


class QualityInputError(ValueError):
    """A class or probe setting out of range; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ClassLimits:
    """The limits of one SLA class, as an agent checks them; None leaves that measure
    unconstrained (the class with its time rules: sdwan.domain.sla.SlaClass).

    ``loss_pct``: lost probes in percent; ``latency_ms``: median round-trip time;
    ``jitter_ms``: mean absolute difference of consecutive round-trip times."""

    name: str
    loss_pct: float | None = None
    latency_ms: float | None = None
    jitter_ms: float | None = None

    @classmethod
    def from_json(cls, body: Any, where: str = "class") -> ClassLimits:
        if not isinstance(body, dict):
            raise QualityInputError(where, "expected an object")
        unknown = sorted(set(body) - {"name", "loss_pct", "latency_ms", "jitter_ms"})
        if unknown:
            raise QualityInputError(f"{where}.{unknown[0]}", "unknown field")
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 64:
            raise QualityInputError(f"{where}.name", "expected a name of 1-64 characters")
        limits = {
            key: _limit(body.get(key), f"{where}.{key}", high)
            for key, high in (
                ("loss_pct", 100.0),
                ("latency_ms", 60_000.0),
                ("jitter_ms", 60_000.0),
            )
        }
        return cls(name, **limits)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "loss_pct": self.loss_pct,
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
        }


def _limit(value: Any, where: str, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise QualityInputError(where, "expected a number or null")
    if not 0 <= value <= high:
        raise QualityInputError(where, f"expected 0 to {high:g}")
    return float(value)


# -- binomial tails --------------------------------------------------------------------


def binomial_tail(n: int, k: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_term = (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )
    term = math.exp(log_term)
    total = term
    ratio = p / (1.0 - p)
    for j in range(k, n):
        term *= (n - j) / (j + 1) * ratio
        total += term
        if j > n * p and term < total * 1e-17:
            break
    return min(1.0, total)


def crossing_bound(n: int, k: int, p: float, evaluations: float) -> float:
    """Upper bound of the probability that the count in a sliding window of the last
    ``n`` independent Bernoulli(p) trials reaches ``k`` at least once in
    ``evaluations`` consecutive evaluations (one after every trial).

    The count rises only when the trial entering the window succeeds, so a first
    crossing at evaluation i needs trial i to count and k - 1 of the n - 1 before it:
    P <= P(X_n >= k) + evaluations * p * P(X_{n-1} >= k - 1) (a union bound)."""
    if k <= 0:
        return 1.0
    return min(1.0, binomial_tail(n, k, p) + evaluations * p * binomial_tail(n - 1, k - 1, p))


@lru_cache(maxsize=1024)
def critical_count(n: int, p0: float, evaluations: float, alpha: float) -> int:
    """The smallest count k whose crossing_bound under ``p0`` is at most ``alpha``
    (``n + 1``, never reached, when no k <= n is)."""
    if p0 <= 0.0:
        return 1
    k = max(1, math.floor(n * p0))
    while k <= n and crossing_bound(n, k, p0, evaluations) > alpha:
        k += 1
    return k


def detection_count(k: int, p1: float, quantile: float = 0.95) -> int:
    """The number of trials after which a count of ``k`` has been reached with
    probability ``quantile`` when each trial counts with probability ``p1``."""
    low, high = k, k
    while binomial_tail(high, k, p1) < quantile:
        low, high = high, high * 2
    while low < high:
        mid = (low + high) // 2
        if binomial_tail(mid, k, p1) >= quantile:
            high = mid
        else:
            low = mid + 1
    return low


def dead_run(p: float, evaluations: float, alpha: float) -> int:
    """The smallest run length D of consecutive losses that independent losses with
    probability ``p`` show with probability at most ``alpha`` within ``evaluations``
    trials (a run starts at the first trial or right after an answer:
    P <= p^D * (1 + evaluations * (1 - p)))."""
    run = 1
    while p**run * (1.0 + evaluations * (1.0 - p)) > alpha:
        run += 1
    return run


# -- the windows and thresholds at a given rate ---------------------------------------


@dataclass(frozen=True)
class Windows:
    """Window lengths (in probes) and the class-independent thresholds at one rate."""

    rate: float
    timeout_s: float
    fast: int
    short: int
    latency: int
    jitter_pairs: int
    long: int
    latency_k: int
    jitter_k: int
    dead_run: int

    @property
    def evaluations(self) -> float:
        return HORIZON_S * self.rate

    @classmethod
    def for_rate(cls, rate: float, timeout_s: float = DEFAULT_TIMEOUT_S) -> Windows:
        return _windows(float(rate), float(timeout_s))


@lru_cache(maxsize=64)
def _windows(rate: float, timeout_s: float) -> Windows:
    def count(seconds: float) -> int:
        return max(1, round(seconds * rate))

    evaluations = HORIZON_S * rate
    latency = count(LATENCY_WINDOW_S)
    pairs = max(1, round(JITTER_WINDOW_S * rate / 2))
    return Windows(
        rate=rate,
        timeout_s=timeout_s,
        fast=count(FAST_WINDOW_S),
        short=count(SHORT_WINDOW_S),
        latency=latency,
        jitter_pairs=pairs,
        long=count(LONG_WINDOW_S),
        latency_k=critical_count(latency, 0.5, evaluations, ALPHA),
        jitter_k=critical_count(pairs, 0.5, evaluations / 2, ALPHA),
        dead_run=dead_run(P_DEAD_NULL, evaluations, ALPHA),
    )


def loss_limits(windows: Windows, loss_pct: float) -> tuple[int, int]:
    """(fast, short) window counts of lost probes that violate a class of
    ``loss_pct``: loss at ``NOISE_SHARE`` of the limit reaches either with probability
    at most ALPHA in the horizon."""
    if loss_pct >= 100.0:  # any loss is within the class
        return windows.fast + 1, windows.short + 1
    p0 = loss_pct / 100.0 * NOISE_SHARE
    evaluations = windows.evaluations
    return (
        critical_count(windows.fast, p0, evaluations, ALPHA / 2),
        critical_count(windows.short, p0, evaluations, ALPHA / 2),
    )
