"""The probe agent's defaults, derived from binomial tails (docs/intent.md, "Path
quality: probes and statistics"). Prints the design table; no lab, no root.

    .venv/bin/python bench/sla_statistics.py [--rates 10,30,100,200]

The targets (agent side; the orchestrator needs a few hundred ms more to move traffic):
  - 20 % loss under a 2 % class: caught within FAST_BUDGET_S (p95);
  - 5 % loss under a 2 % class: caught within SHORT_BUDGET_S (p95);
  - 1 % loss under a 2 % class: a trigger in 10 minutes with probability <= ALPHA;
  - +150 ms RTT with a 50 ms class: caught within LATENCY_BUDGET_S (p95);
  - a silent blackout: dead within DEAD_BUDGET_S (always), so that the FIB agent can
    swap the next hop and traffic is on the backup within 500 ms;
  - a path losing half of its probes at random is not dead (probability <= ALPHA in
    10 minutes); a latency jump below the timeout is never dead (by construction).
The default rate is the smallest whole rate that meets them all.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from sdwan.domain.quality import (
    ALPHA,
    HORIZON_S,
    LONG_WINDOW_S,
    NOISE_SHARE,
    P_DEAD_NULL,
    ClassLimits,
    Windows,
    binomial_tail,
    critical_count,
    crossing_bound,
    dead_run,
    detection_count,
    loss_limits,
)
from sdwan.probe.simulate import detection_times

REFERENCE_LOSS = 0.02  # the 2 % class
SLOW_FACTOR = 2.5  # 5 % under 2 %
FAST_FACTOR = 10.0  # 20 % under 2 %
QUANTILE = 0.95
SHORT_BUDGET_S = 2.5
FAST_BUDGET_S = 0.6
LATENCY_BUDGET_S = 0.6
LATENCY_JUMP_S = 0.150
LATENCY_SHARE = 0.9  # a latency brownout: at least 90 % of the samples above the limit
DEAD_BUDGET_S = 0.40  # + a few ms of FIB swap and the local push: < 500 ms
JITTER_FACTOR = 2.0  # twice the class's jitter...
TIMEOUT_STEP_S = 0.01


def jitter_share(factor: float) -> float:
    """P(|RTT_i - RTT_j| > J) for independent normal RTTs whose mean absolute difference
    is ``factor`` * J: the difference is N(0, 2 sigma^2), its mean 2 sigma / sqrt(pi)."""
    sigma = factor * math.sqrt(math.pi) / 2.0  # in units of J
    return math.erfc(1.0 / (2.0 * sigma))  # P(|N(0, 2 sigma^2)| > 1)


@dataclass(frozen=True)
class LossWindow:
    probes: int
    count: int
    false_10min: float
    detect_probes: int


def loss_window(rate: float, timeout_s: float, factor: float, budget_s: float) -> LossWindow | None:
    """The smallest threshold whose p95 detection window keeps 1 % (half the class)
    under ALPHA/2 in the horizon, if its detection fits ``budget_s``."""
    p0, p1 = REFERENCE_LOSS * NOISE_SHARE, REFERENCE_LOSS * factor
    evaluations = HORIZON_S * rate
    for k in range(1, 10_000):
        n = detection_count(k, p1, QUANTILE)
        if timeout_s + (n + 1) / rate > budget_s:
            return None
        false = crossing_bound(n, k, p0, evaluations)
        if false <= ALPHA / 2:
            return LossWindow(n, k, false, n)
    return None


def sign_window(evaluations: float, share: float) -> tuple[int, int]:
    """(n, k) of the smallest sign-test window (null 1/2) in which a share ``share`` of
    samples above the limit reaches the threshold within the window at p95."""
    n = 1
    while True:
        k = critical_count(n, 0.5, evaluations, ALPHA)
        if k <= n and detection_count(k, share, QUANTILE) <= n:
            return n, k
        n += 1


@dataclass(frozen=True)
class Design:
    rate: int
    timeout_s: float
    dead_run: int
    fast: LossWindow
    short: LossWindow
    latency: tuple[int, int]
    jitter_pairs: tuple[int, int]


def design_at(rate: int) -> Design | None:
    evaluations = HORIZON_S * rate
    run = dead_run(P_DEAD_NULL, evaluations, ALPHA)
    timeout = math.floor((DEAD_BUDGET_S - (run + 1) / rate) / TIMEOUT_STEP_S) * TIMEOUT_STEP_S
    timeout = round(timeout, 3)
    if timeout <= 0:
        return None
    fast = loss_window(rate, timeout, FAST_FACTOR, FAST_BUDGET_S)
    short = loss_window(rate, timeout, SLOW_FACTOR, SHORT_BUDGET_S)
    if fast is None or short is None:
        return None
    latency = sign_window(evaluations, LATENCY_SHARE)
    if LATENCY_JUMP_S + (latency[0] + 1) / rate > LATENCY_BUDGET_S:
        return None
    pairs = sign_window(evaluations / 2, jitter_share(JITTER_FACTOR))
    return Design(rate, timeout, run, fast, short, latency, pairs)


def derive(low: int = 10, high: int = 2000) -> Design:
    """The smallest whole rate that meets every target."""
    for rate in range(low, high):
        design = design_at(rate)
        if design is not None:
            return design
    raise SystemExit(f"no rate up to {high}/s meets the targets")


def window_seconds(design: Design) -> dict[str, float]:
    """The window lengths in seconds, as sdwan.domain.quality keeps them (rounded to
    the ms; Windows.for_rate gives the same probe counts back at the default rate)."""
    rate = design.rate
    return {
        "FAST_WINDOW_S": round(design.fast.probes / rate, 3),
        "SHORT_WINDOW_S": round(design.short.probes / rate, 3),
        "LATENCY_WINDOW_S": round(design.latency[0] / rate, 3),
        "JITTER_WINDOW_S": round(2 * design.jitter_pairs[0] / rate, 3),
    }


def best_time(rate: int, timeout_s: float, factor: float) -> float:
    """The fastest p95 detection at ``rate`` with the false-trigger bound kept."""
    p0, p1 = REFERENCE_LOSS * NOISE_SHARE, REFERENCE_LOSS * factor
    evaluations = HORIZON_S * rate
    for k in range(1, 10_000):
        n = detection_count(k, p1, QUANTILE)
        if crossing_bound(n, k, p0, evaluations) <= ALPHA / 2:
            return timeout_s + (n + 1) / rate
    return math.inf


def class_p95(windows: Windows, loss: float, factor: float) -> str:
    """p95 detection of ``factor`` times a class's loss limit, by the first window
    that can reach its threshold at that loss."""
    p1 = min(1.0, loss * factor)
    times = []
    for k, n in zip(loss_limits(windows, loss * 100), (windows.fast, windows.short), strict=True):
        needed = detection_count(k, p1)
        if k <= n and needed <= n:
            times.append(windows.timeout_s + (needed + 1) / windows.rate)
    return f"{min(times):.2f} s" if times else "> window"


def class_false(windows: Windows, loss: float, share: float) -> float:
    """Bound of a trigger in the horizon when the loss is ``share`` of the limit."""
    total = sum(
        crossing_bound(n, k, loss * share, windows.evaluations)
        for k, n in zip(
            loss_limits(windows, loss * 100), (windows.fast, windows.short), strict=True
        )
    )
    return min(1.0, total)


def show(design: Design, rates: list[int]) -> None:
    rate, timeout = design.rate, design.timeout_s
    evaluations = HORIZON_S * rate
    print(f"targets: p95 {QUANTILE:.0%}; false trigger <= {ALPHA:g} per uplink, class and test")
    print(f"         in {HORIZON_S:g} s of evaluation after every probe\n")
    print(
        f"default rate          {rate} probes/s per uplink ({evaluations:.0f} evaluations/10 min)"
    )
    print(f"timeout               {timeout * 1000:.0f} ms")
    print(
        f"dead after            {design.dead_run} consecutive losses "
        f"(worst {1000 * (timeout + (design.dead_run + 1) / rate):.0f} ms after the blackout)"
    )
    for name, seconds in window_seconds(design).items():
        print(f"{name:21} {seconds}")
    print(f"LONG_WINDOW_S         {LONG_WINDOW_S}\n")

    p0 = REFERENCE_LOSS * NOISE_SHARE
    header = ("test", "window", "threshold", "P(eval)", "P(10 min)", "p95 detection", "miss")
    print("{:34} {:>15} {:>9} {:>9} {:>9} {:>14} {:>9}".format(*header))
    for label, window, factor, budget in (
        ("loss 20 % vs 2 % class (fast)", design.fast, FAST_FACTOR, FAST_BUDGET_S),
        ("loss 5 % vs 2 % class (short)", design.short, SLOW_FACTOR, SHORT_BUDGET_S),
    ):
        n, k = window.probes, window.count
        per_eval = binomial_tail(n, k, p0)
        budget_probes = math.floor((budget - timeout) * rate) - 1
        miss = 1.0 - binomial_tail(budget_probes, k, REFERENCE_LOSS * factor)
        print(
            f"{label:34} {n:>5} ({n / rate:.2f} s) {k:>9} {per_eval:9.1e} "
            f"{window.false_10min:9.1e} {timeout + (n + 1) / rate:12.2f} s {miss:9.1e}"
        )
    n, k = design.latency
    print(
        f"{'latency +150 ms vs 50 ms (sign)':34} {n:>5} ({n / rate:.2f} s) {k:>9} "
        f"{binomial_tail(n, k, 0.5):9.1e} {crossing_bound(n, k, 0.5, evaluations):9.1e} "
        f"{LATENCY_JUMP_S + (n + 1) / rate:12.2f} s {'0':>9}"
    )
    n, k = design.jitter_pairs
    share = jitter_share(JITTER_FACTOR)
    print(
        f"{'jitter 2x class (pairs, sign)':34} {n:>5} ({2 * n / rate:.2f} s) {k:>9} "
        f"{binomial_tail(n, k, 0.5):9.1e} {crossing_bound(n, k, 0.5, evaluations / 2):9.1e} "
        f"{2 * (detection_count(k, share) + 1) / rate:12.2f} s {'-':>9}"
    )
    run = design.dead_run
    print(
        f"{'dead (blackout) vs 50 % loss':34} {run:>5} in a row {'':>4} {run:>9} "
        f"{P_DEAD_NULL**run:9.1e} {P_DEAD_NULL**run * (1 + evaluations / 2):9.1e} "
        f"{timeout + (run + 1) / rate:12.2f} s {'0':>9}"
    )
    inside = jitter_share(1.0)
    jn, jk = design.jitter_pairs
    print(
        f"\njitter exactly at the class limit (normal RTTs): a pair exceeds it with "
        f"p = {inside:.3f};\n  a trigger in 10 minutes: <= "
        f"{crossing_bound(jn, jk, inside, evaluations / 2):.1e}"
    )
    print(
        "dead under other random loss in 10 minutes: "
        + ", ".join(
            f"{p:.0%}: {min(1.0, p**run * (1 + evaluations * (1 - p))):.1e}"
            for p in (0.2, 0.3, 0.5)
        )
    )

    print("\nother classes at the default rate (thresholds from the same bound):")
    print(
        "{:>7} {:>7} {:>7} {:>13} {:>13} {:>12} {:>12} {:>12}".format(
            "class",
            "k fast",
            "k short",
            "p95 at 10x",
            "p95 at 2.5x",
            "P10 at 0.5x",
            "P10 at 0.75x",
            "P10 at 1x",
        )
    )
    windows = Windows.for_rate(rate, timeout)
    for pct in (0.5, 1.0, 2.0, 5.0, 10.0):
        kf, ks = loss_limits(windows, pct)
        c = pct / 100

        print(
            f"{pct:>6g}% {kf:>7} {ks:>7} {class_p95(windows, c, 10):>13} "
            f"{class_p95(windows, c, 2.5):>13} {class_false(windows, c, 0.5):12.1e} "
            f"{class_false(windows, c, 0.75):12.1e} {class_false(windows, c, 1.0):12.1e}"
        )

    print("\nfastest p95 detection of 5 % and 20 % under a 2 % class at other rates")
    print("(window and threshold chosen for that rate, same false-trigger bound):")
    for other in sorted({*rates, rate}):
        print(
            f"{other:>6}/s  5 %: {best_time(other, timeout, SLOW_FACTOR):6.2f} s   "
            f"20 %: {best_time(other, timeout, FAST_FACTOR):6.2f} s"
        )


def simulate(design: Design, onsets: int) -> None:
    """The agent's own meter (sdwan.probe.meter) in simulated time: detection times
    over ``onsets`` independent impairments after 3 s of clean answers."""
    windows = Windows.for_rate(design.rate, design.timeout_s)
    print(f"\nsimulated with the agent's meter, {onsets} onsets each (p50 / p95 / max):")
    cases: list[tuple[str, ClassLimits, Callable[[random.Random], float | None]]] = [
        (
            "loss 20 % vs 2 %",
            ClassLimits("c", loss_pct=2.0),
            lambda r: None if r.random() < 0.2 else 0.001,
        ),
        (
            "loss 5 % vs 2 %",
            ClassLimits("c", loss_pct=2.0),
            lambda r: None if r.random() < 0.05 else 0.001,
        ),
        ("latency +150 ms vs 50 ms", ClassLimits("c", latency_ms=50.0), lambda r: 0.151),
        ("blackout (dead)", ClassLimits("c", jitter_ms=1e6), lambda r: None),
    ]
    for seed, (label, cls, fate) in enumerate(cases):
        times = sorted(detection_times(windows, cls, fate, onsets=onsets, seed=seed))
        p50, p95 = times[len(times) // 2], times[math.ceil(0.95 * len(times)) - 1]
        print(f"  {label:26} {p50:5.2f} / {p95:5.2f} / {times[-1]:5.2f} s")


def cusum_probes(p0: float, p1: float, threshold: float, runs: int, seed: int) -> list[int]:
    """Probes a Bernoulli CUSUM (log-likelihood ratio of loss ``p1`` against ``p0``,
    floored at 0) takes to reach ``threshold`` once the loss is ``p1``, sorted."""
    lost, answered = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    rng = random.Random(seed)
    counts = []
    for _ in range(runs):  # bounded: the drift is positive, a run ends in ~1000 steps
        total, n = 0.0, 0
        while total < threshold:
            n += 1
            total = max(0.0, total + (lost if rng.random() < p1 else answered))
        counts.append(n)
    return sorted(counts)


def sequential(design: Design, rates: list[int], runs: int) -> None:
    """Would a sequential test need fewer probes for 5 % under 2 % (so a lower rate,
    so less CPU)? A CUSUM of 5 % against the noise (1 %) alarms under the noise with
    probability at most exp(-h) from each start, so h = ln(2 M / ALPHA) keeps the
    same bound as the windows (half of ALPHA); its detection is the CUSUM's p95."""
    noise = REFERENCE_LOSS * NOISE_SHARE
    slow = REFERENCE_LOSS * SLOW_FACTOR
    print(f"\nsequential alternative (CUSUM, {slow:.0%} against {noise:.0%}, {runs} onsets):")
    for rate in sorted({*rates, int(design.rate)}):
        threshold = math.log(2 * HORIZON_S * rate / ALPHA)
        counts = cusum_probes(noise, slow, threshold, runs, seed=rate)
        p95 = counts[math.ceil(QUANTILE * runs) - 1]
        mean = sum(counts) / runs
        print(
            f"{rate:>6}/s  h {threshold:5.2f}: {mean:4.0f} probes on average, {p95} at p95:"
            f" {design.timeout_s + (p95 + 1) / rate:5.2f} s"
            f" (the window: {best_time(rate, design.timeout_s, SLOW_FACTOR):5.2f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="10,30,100,200", help="rates to compare")
    parser.add_argument(
        "--simulate", type=int, default=200, metavar="N", help="onsets per case (0: none)"
    )
    args = parser.parse_args()
    design = derive()
    show(design, [int(r) for r in args.rates.split(",") if r])
    if args.simulate:
        simulate(design, args.simulate)
        sequential(design, [200, 250, 300], args.simulate * 10)


if __name__ == "__main__":
    main()
