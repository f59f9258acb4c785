"""A probe meter driven by simulated time: one probe per period, each with a fate
(its round-trip time, or None: lost), answers delivered when they arrive, timeouts
and the time-based decisions run as the agent's loop runs them. The unit tests and
bench/sla_statistics.py check with it that the meter does what the statistics say."""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable

from sdwan.domain.quality import ClassLimits, Windows
from sdwan.probe.meter import Meter

WALL0 = 1_800_000_000.0  # the wall clock at simulated time 0


class Sim:
    def __init__(self, meter: Meter, rate: float, evaluate_every: float = 0.1) -> None:
        self.meter = meter
        self.rate = rate
        self.sent = 0
        self.now = 0.0
        self._arrivals: list[tuple[float, int]] = []
        self._evaluate_every = evaluate_every
        self._next_evaluate = 0.0

    def _deliver(self, until: float) -> None:
        while self._arrivals and self._arrivals[0][0] <= until:
            arrival, seq = heapq.heappop(self._arrivals)
            self.meter.answer(seq, 32, WALL0 + arrival, 0.0, arrival)

    def _tick(self, now: float) -> None:
        self.now = now
        self._deliver(now)
        if self.meter.deadline <= now:
            self.meter.advance(now)
        if now >= self._next_evaluate:
            self._next_evaluate = now + self._evaluate_every
            self.meter.evaluate(now)

    def step(self, fate: float | None) -> None:
        """One period: send a probe with ``fate`` and run the loop up to the next."""
        now = self.sent / self.rate
        self._tick(now)
        seq = self.meter.sent(now, WALL0 + now)
        if fate is not None:
            heapq.heappush(self._arrivals, (now + fate, seq))
        self.sent += 1

    def run(self, fates: Iterable[float | None]) -> None:
        for fate in fates:
            self.step(fate)

    def until(
        self, condition: Callable[[], bool], fates: Callable[[], float | None], limit: float
    ) -> float:
        """Run with ``fates()`` until ``condition()`` holds; the simulated time it took
        (inf if not within ``limit`` seconds)."""
        start = self.now
        while self.now - start <= limit:
            self.step(fates())
            if condition():
                return self.now - start
        return math.inf

    def drain(self, seconds: float) -> None:
        """Let time pass without sending (answers and timeouts still come)."""
        end = self.now + seconds
        now = self.now
        while now < end:
            now += 1.0 / self.rate
            self._tick(now)


def detection_times(
    windows: Windows,
    cls: ClassLimits,
    fate: Callable[[random.Random], float | None],
    *,
    onsets: int,
    seed: int,
    warmup_s: float = 3.0,
    limit_s: float = 10.0,
) -> list[float]:
    """Seconds from the start of an impairment (``fate`` draws each probe's) to the
    class being violated, after ``warmup_s`` of clean 1 ms answers, over ``onsets``
    independent runs (inf where it took longer than ``limit_s``)."""
    rng = random.Random(seed)
    times = []
    for _ in range(onsets):
        meter = Meter(windows, (cls,))
        sim = Sim(meter, windows.rate)
        sim.run([0.001] * int(windows.rate * warmup_s))
        evaluation = meter.classes[0]
        times.append(
            sim.until(
                lambda evaluation=evaluation: evaluation.state == "violated",  # type: ignore[misc]
                lambda: fate(rng),
                limit=limit_s,
            )
        )
    return times
