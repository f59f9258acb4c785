"""One uplink's measurements: a ring of the most recent probes, sliding windows kept by
running counts, the dead detector and the class decisions. Pure: the caller passes
the times; nothing here does I/O.

Probes are numbered from 0. A probe's fate is either its round-trip time (answered)
or LOST (no answer within the timeout); fates are *committed* in sequence order, as
soon as every earlier probe's fate is known, so each window is exactly "the last n
probes": an answer that overtakes an unanswered probe waits (at most the timeout)
for it. Committing a probe is O(1): every window adds the new probe and drops the
one that leaves it (read back from the ring), per count it keeps. See
sdwan.domain.quality for the tests and their thresholds.

Class decisions (per class of the uplink):
- violated at once when a short test fires: lost probes in the fast or the short
  window, RTTs above the latency limit in the latency window, IPDVs above the jitter
  limit in the jitter window reach their thresholds, or the uplink is dead;
- met when the uplink is up, no test has fired for a whole long window, and the long
  window is within the class (loss, median RTT, mean IPDV; read once when it may be);
- otherwise unchanged (the hysteresis band).
Uplink state: unknown until the first fate; dead after ``dead_run`` consecutive
losses; up again once answers have come back for ``up_hold`` seconds without a new
dead run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sdwan.domain.quality import (
    LONG_WINDOW_S,
    UP_HOLD_S,
    ClassLimits,
    ClassState,
    UplinkState,
    Windows,
    loss_limits,
)

__all__ = ["LOST", "Meter", "WindowStats"]

PENDING = -2.0
LOST = -1.0
_MEDIAN_SAMPLES = 256  # a reported median: over at most this many probes, evenly spread


@dataclass(frozen=True)
class WindowStats:
    window_s: float
    sent: int
    answered: int
    loss_pct: float | None
    latency_ms: float | None
    jitter_ms: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "sent": self.sent,
            "answered": self.answered,
            "loss_pct": self.loss_pct,
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
        }


class _ClassEval:
    """One class's thresholds, counts and state."""

    __slots__ = (
        "cls",
        "jitter",
        "jitter_above",
        "last_fired",
        "latency",
        "latency_above",
        "loss",
        "loss_fast",
        "loss_short",
        "reason",
        "since",
        "state",
    )

    def __init__(self, cls: ClassLimits, windows: Windows, now_wall: float) -> None:
        self.cls = cls
        self.loss = None if cls.loss_pct is None else cls.loss_pct / 100.0
        big = 1 << 30
        self.loss_fast, self.loss_short = (
            (big, big) if cls.loss_pct is None else loss_limits(windows, cls.loss_pct)
        )
        # limits in seconds; +inf never counts
        self.latency = math.inf if cls.latency_ms is None else cls.latency_ms / 1000.0
        self.jitter = math.inf if cls.jitter_ms is None else cls.jitter_ms / 1000.0
        self.latency_above = 0  # RTTs above the limit in the latency window
        self.jitter_above = 0  # pair IPDVs above the limit in the jitter window
        self.state: ClassState = "unknown"
        self.since = now_wall
        self.reason = "no measurements yet"
        self.last_fired = -math.inf  # monotonic time a test last fired


class Meter:
    """The measurements of one uplink (see the module doc)."""

    def __init__(
        self,
        windows: Windows,
        classes: tuple[ClassLimits, ...] = (),
        *,
        now: float = 0.0,
        now_wall: float = 0.0,
        up_hold: float = UP_HOLD_S,
    ) -> None:
        self.windows = windows
        self.timeout = windows.timeout_s
        self.up_hold = up_hold
        inflight = math.ceil(windows.timeout_s * windows.rate * 2) + 64
        self.max_inflight = inflight
        size = 1 << max(8, (windows.long + inflight).bit_length())
        self.mask = size - 1
        # Slots of probes not sent yet hold 0.0: an answered probe of RTT 0 that no
        # count counts, so windows that reach back before probe 0 need no special case
        self.rtt = [0.0] * size
        self.sent_at = [0.0] * size  # monotonic send time (for the timeout)
        self.sent_wall = [0.0] * size  # wall-clock send time (for the RTT)
        self.next_seq = 0  # the next probe to send
        self.head = 0  # the next probe to commit
        self.deadline = math.inf  # when the oldest probe in flight is lost unanswered
        self.run = 0  # consecutive losses at the head
        self.state: UplinkState = "unknown"
        self.since = now_wall
        self.resumed: float | None = None  # dead: when answers came back
        self.started = now
        self.changed = False  # a state changed since the caller last looked
        self.fast_lost = self.short_lost = self.long_lost = 0  # lost probes per window
        # window sizes and thresholds, where the hot path reads them
        self._fast, self._short, self._long = windows.fast, windows.short, windows.long
        self._latency, self._pairs_span = windows.latency, 2 * windows.jitter_pairs
        self._latency_k, self._jitter_k = windows.latency_k, windows.jitter_k
        self.classes = [_ClassEval(c, windows, now_wall) for c in classes]

    def set_classes(self, classes: tuple[ClassLimits, ...], now: float, now_wall: float) -> None:
        """New classes for the same probes: a class that did not change keeps its
        state; a new one starts unknown, its counts taken from the ring."""
        old = {c.cls: c for c in self.classes}
        evals = []
        for cls in classes:
            evaluation = old.get(cls)
            if evaluation is None:
                evaluation = _ClassEval(cls, self.windows, now_wall)
                self._recount(evaluation)
            evals.append(evaluation)
        self.classes = evals
        self.changed = True

    def _recount(self, c: _ClassEval) -> None:
        rtt, mask, head, w = self.rtt, self.mask, self.head, self.windows
        c.latency_above = sum(
            rtt[s & mask] > c.latency for s in range(max(0, head - w.latency), head)
        )
        jumps = 0
        for s in range(max(1, head - 2 * w.jitter_pairs), head):
            a, b = rtt[s & mask], rtt[(s - 1) & mask]
            jumps += s & 1 == 1 and a >= 0.0 and b >= 0.0 and abs(a - b) > c.jitter
        c.jitter_above = jumps

    # -- probes ------------------------------------------------------------------

    def sent(self, now: float, now_wall: float) -> int:
        """Record a probe sent now; returns its sequence number."""
        seq = self.next_seq
        if seq == self.head:
            self.deadline = now + self.timeout
        elif seq - self.head >= self.max_inflight:
            self.advance(now + self.timeout)  # a stalled loop: older probes are lost
        i = seq & self.mask
        self.rtt[i] = PENDING
        self.sent_at[i] = now
        self.sent_wall[i] = now_wall
        self.next_seq = seq + 1
        return seq

    def answer(
        self, wire_seq: int, bits: int, received_wall: float, residence: float, now: float
    ) -> None:
        """The answer to the probe numbered ``wire_seq`` (modulo 2**bits) arrived at
        ``received_wall`` (kernel time); the reflector held it ``residence`` seconds.
        Late answers (the probe is lost already), duplicates and strangers are
        ignored."""
        end = self.next_seq
        seq = end - ((end - wire_seq) & ((1 << bits) - 1))
        head = self.head
        if seq < head or seq >= end:
            return
        i = seq & self.mask
        rtt = self.rtt
        if rtt[i] != PENDING:
            return
        value = received_wall - self.sent_wall[i] - residence
        if value < 0.0:
            value = 0.0
        rtt[i] = value
        if seq != head:
            return  # it waits for the probes before it
        self.head = head + 1
        self._commit(seq, value, now)
        following = head + 1
        if following == end:
            self.deadline = math.inf
            return
        j = following & self.mask
        deadline = self.sent_at[j] + self.timeout
        if rtt[j] == PENDING and deadline > now:  # the usual case: nothing overtaken
            self.deadline = deadline
        else:
            self.advance(now)

    def advance(self, now: float) -> None:
        """Commit every probe whose fate is known, in order; a probe unanswered for the
        timeout is lost. ``deadline`` becomes the time the next one would be."""
        rtt, sent_at, mask, timeout = self.rtt, self.sent_at, self.mask, self.timeout
        head, end = self.head, self.next_seq
        while head < end:
            i = head & mask
            value = rtt[i]
            if value == PENDING:
                if sent_at[i] + timeout > now:
                    break
                value = rtt[i] = LOST
            self.head = head + 1
            self._commit(head, value, now)
            head += 1
        self.deadline = sent_at[head & mask] + timeout if head < end else math.inf

    def _commit(self, seq: int, value: float, now: float) -> None:
        # The hot path: written for the common case (answered, within every limit),
        # where it reads the ring a few times and writes nothing but the ring.
        rtt, mask = self.rtt, self.mask
        lost = value < 0.0
        if lost:
            self.fast_lost += 1
            self.short_lost += 1
            self.long_lost += 1
        if rtt[(seq - self._fast) & mask] < 0.0:
            self.fast_lost -= 1
        if rtt[(seq - self._short) & mask] < 0.0:
            self.short_lost -= 1
        if rtt[(seq - self._long) & mask] < 0.0:
            self.long_lost -= 1
        if self.classes:
            old_latency = rtt[(seq - self._latency) & mask]
            # the jitter test takes disjoint pairs: (seq - 1, seq) for odd seq
            pair = seq & 1 == 1
            delta = old_pair = -1.0
            if pair:
                prev = rtt[(seq - 1) & mask]
                if not lost and prev >= 0.0:
                    delta = value - prev if value > prev else prev - value
                left = seq - self._pairs_span
                a, b = rtt[left & mask], rtt[(left - 1) & mask]
                if left > 0 and a >= 0.0 and b >= 0.0:
                    old_pair = a - b if a > b else b - a
            for c in self.classes:
                limit = c.latency
                if old_latency > limit:
                    c.latency_above -= 1
                if value > limit:
                    c.latency_above += 1
                    if c.latency_above >= self._latency_k:
                        self._fire(c, "latency", now)
                if pair:
                    limit = c.jitter
                    if old_pair > limit:
                        c.jitter_above -= 1
                    if delta > limit:
                        c.jitter_above += 1
                        if c.jitter_above >= self._jitter_k:
                            self._fire(c, "jitter", now)
                if lost and (self.fast_lost >= c.loss_fast or self.short_lost >= c.loss_short):
                    self._fire(c, "loss", now)
        if lost:
            self.run += 1
            if self.run >= self.windows.dead_run:
                self.resumed = None
                if self.state != "dead":
                    self._set_state("dead", now)
        elif self.run or self.state != "up":
            self._answered_again(seq, now)

    def _answered_again(self, seq: int, now: float) -> None:
        """An answer after losses, or the first one: the dead detector's other half."""
        self.run = 0
        if self.state == "unknown":
            self._set_state("up", now)
        elif self.state == "dead" and self.resumed is None:
            self.resumed = self.sent_at[seq & self.mask]  # answering since it was sent

    # -- decisions ----------------------------------------------------------------

    def _wall(self, now: float) -> float:
        """The wall-clock time of monotonic ``now``, through the latest send."""
        i = (self.next_seq - 1) & self.mask
        return self.sent_wall[i] + (now - self.sent_at[i]) if self.next_seq else now

    def _set_state(self, state: UplinkState, now: float) -> None:
        self.state = state
        self.since = self._wall(now)
        self.changed = True
        if state == "dead":
            for c in self.classes:
                self._fire(c, "dead", now)

    def _fire(self, c: _ClassEval, test: str, now: float) -> None:
        c.last_fired = now
        if c.state != "violated":
            c.state = "violated"
            c.since = self._wall(now)
            c.reason = self._reason(c, test)
            self.changed = True

    def _reason(self, c: _ClassEval, test: str) -> str:
        w = self.windows
        if test == "dead":
            return f"dead: {self.run} probes in a row unanswered"
        if test == "loss":
            n, lost = (
                (w.fast, self.fast_lost)
                if self.fast_lost >= c.loss_fast
                else (w.short, self.short_lost)
            )
            return f"loss {100.0 * lost / n:.1f} % > {c.cls.loss_pct:g} %"
        if test == "latency":
            median = self.stats(w.latency).latency_ms
            return f"latency {median:.1f} ms > {c.cls.latency_ms:g} ms"
        jitter = self.stats(2 * w.jitter_pairs).jitter_ms
        return f"jitter {jitter:.1f} ms > {c.cls.jitter_ms:g} ms"

    def evaluate(self, now: float) -> None:
        """The time-based decisions (called a few times a second): dead -> up after
        the hold, tests still firing, classes met again."""
        if self.state == "dead" and self.resumed is not None and now - self.resumed >= self.up_hold:
            self.resumed = None
            self._set_state("up", now)
        w = self.windows
        long: _LongWindow | None = None
        for c in self.classes:
            if (
                self.state == "dead"
                or self.fast_lost >= c.loss_fast
                or self.short_lost >= c.loss_short
                or c.latency_above >= w.latency_k
                or c.jitter_above >= w.jitter_k
            ):
                c.last_fired = now
                continue
            if c.state == "met" or self.state != "up" or self.head < w.short:
                continue
            if now - c.last_fired < LONG_WINDOW_S:
                continue
            filled = min(self.head, w.long)
            if c.loss is not None and self.long_lost > c.loss * filled:
                continue
            if long is None:
                long = _LongWindow(self.rtt, self.mask, self.head, filled)
            if long.within(c.latency, c.jitter):
                c.state = "met"
                c.since = self._wall(now)
                c.reason = self._met_reason(c)
                self.changed = True

    def _met_reason(self, c: _ClassEval) -> str:
        stats = self.stats(self.windows.long)
        parts = []
        if c.cls.loss_pct is not None and stats.loss_pct is not None:
            parts.append(f"loss {stats.loss_pct:.1f} % <= {c.cls.loss_pct:g} %")
        if c.cls.latency_ms is not None and stats.latency_ms is not None:
            parts.append(f"latency {stats.latency_ms:.1f} ms <= {c.cls.latency_ms:g} ms")
        if c.cls.jitter_ms is not None and stats.jitter_ms is not None:
            parts.append(f"jitter {stats.jitter_ms:.1f} ms <= {c.cls.jitter_ms:g} ms")
        return ", ".join(parts) or "within the class"

    # -- reports ------------------------------------------------------------------

    def stats(self, n: int) -> WindowStats:
        """The last ``n`` committed probes: counts and loss (exact), the median RTT and
        the mean IPDV of consecutive answered probes (over at most 256 probes evenly
        spread over the window)."""
        w = self.windows
        filled = min(n, self.head)
        window_s = round(n / w.rate, 3)
        if filled == 0:
            return WindowStats(window_s, 0, 0, None, None, None)
        rtt, mask, head = self.rtt, self.mask, self.head
        first = head - filled
        lost = {w.fast: self.fast_lost, w.short: self.short_lost, w.long: self.long_lost}.get(n)
        if lost is None:
            lost = sum(rtt[s & mask] < 0.0 for s in range(first, head))
        samples: list[float] = []
        jitter, pairs = 0.0, 0
        for s in range(first, head, max(1, -(-filled // _MEDIAN_SAMPLES))):
            value = rtt[s & mask]
            if value < 0.0:
                continue
            samples.append(value)
            prev = rtt[(s - 1) & mask]
            if s > first and prev >= 0.0:
                jitter += abs(value - prev)
                pairs += 1
        median = None
        if samples:
            samples.sort()
            mid = len(samples) // 2
            median = samples[mid] if len(samples) % 2 else (samples[mid - 1] + samples[mid]) / 2
        return WindowStats(
            window_s=window_s,
            sent=filled,
            answered=filled - lost,
            loss_pct=round(100.0 * lost / filled, 3),
            latency_ms=None if median is None else round(median * 1000.0, 3),
            jitter_ms=round(1000.0 * jitter / pairs, 3) if pairs else None,
        )

    def report(self) -> dict[str, Any]:
        """The uplink's entry in a quality snapshot (without its name)."""
        w = self.windows
        return {
            "state": self.state,
            "since": self.since,
            "short": self.stats(w.short).to_json(),
            "long": self.stats(w.long).to_json(),
            "classes": {
                c.cls.name: {"state": c.state, "since": c.since, "reason": c.reason}
                for c in self.classes
            },
        }


class _LongWindow:
    """The long window read once (exact): answered RTTs and IPDVs of consecutive
    answered probes, for "is the class met again"."""

    def __init__(self, rtt: list[float], mask: int, head: int, filled: int) -> None:
        self.rtts: list[float] = []
        self.deltas: list[float] = []
        prev = -1.0
        for s in range(head - filled, head):
            value = rtt[s & mask]
            if value >= 0.0:
                self.rtts.append(value)
                if prev >= 0.0:
                    self.deltas.append(abs(value - prev))
            prev = value

    def within(self, latency: float, jitter: float) -> bool:
        """Median RTT <= latency and mean IPDV <= jitter (an infinite limit holds)."""
        if latency != math.inf and 2 * sum(v > latency for v in self.rtts) > len(self.rtts):
            return False
        return jitter == math.inf or sum(self.deltas) <= jitter * len(self.deltas)
