"""The reconciler's work queue: router keys, not events (as client-go's workqueue).

- Adding a key that is already waiting merges the requests (coalescing): a hundred
  changes to one router while it waits cost one pass.
- A key being processed is never handed out twice at once; added meanwhile, it waits
  and is handed out again after ``done``.
- ``add_after`` schedules a key for later (the periodic full read-back, probes)
  without a thread per timer: ``get`` wakes for the next due one. A timer in a named
  ``slot`` replaces the key's earlier timer in that slot, so rescheduling never piles
  timers up.
- ``add_rate_limited`` retries a key whose pass failed, after its own exponential
  backoff (``backoff_initial`` doubled per failure, at most ``backoff_max``), in the
  ``RETRY`` slot; ``forget`` resets the key's failures (its pass succeeded) and
  ``add_now`` skips its backoff (a change worth trying at once). The queue is the one
  place that counts failures, as client-go's rate-limited queue is.

Thread-safe; pure (no I/O), with an injectable clock for tests.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

RETRY = "retry"  # the slot of a key's rate-limited retry


@dataclass(frozen=True)
class Request:
    """What a pass of one router should cover: everything (``full``), some neighbors
    by address, or only a cheap probe that gobgpd still runs what we expect, or only
    a read of the session counters (a full pass reads them too)."""

    full: bool = False
    addresses: frozenset[str] = frozenset()
    probe: bool = False
    counters: bool = False

    @staticmethod
    def everything() -> Request:
        return Request(full=True)

    @staticmethod
    def of(addresses: Iterable[str] | None) -> Request:
        """A pass over these neighbor addresses; None means a full pass."""
        if addresses is None:
            return Request(full=True)
        return Request(addresses=frozenset(addresses))

    def merge(self, other: Request) -> Request:
        if self.full or other.full:
            return Request(full=True)
        # however many addresses, a targeted pass: it reads them with one ListPeer when
        # there are many, and skips what only a full pass does (policy, announcements)
        addresses = self.addresses | other.addresses
        return Request(
            addresses=addresses,
            probe=(self.probe or other.probe) and not addresses,
            counters=self.counters or other.counters,
        )

    @property
    def counters_only(self) -> bool:
        return self.counters and not self.full and not self.addresses and not self.probe

    @property
    def scope(self) -> set[str] | None:
        """None for a full pass, else the addresses to look at."""
        return None if self.full else set(self.addresses)


class WorkQueue:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self._clock = clock
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._failures: dict[str, int] = {}  # key -> failed passes since its last forget
        self._cond = threading.Condition()
        self._waiting: dict[str, Request] = {}  # key -> merged request (dirty)
        self._ready: deque[str] = deque()  # keys of _waiting not being processed, in order
        self._processing: set[str] = set()
        # heap by due time: (due, seq, key, slot, request)
        self._timers: list[tuple[float, int, str, str | None, Request]] = []
        self._slots: dict[tuple[str, str], int] = {}  # (key, slot) -> seq of its live timer
        self._seq = itertools.count()
        self._closed = False

    # --- producers -----------------------------------------------------------------

    def add(self, key: str, request: Request) -> None:
        with self._cond:
            if self._closed:
                return
            self._add(key, request)

    def _add(self, key: str, request: Request) -> None:
        known = self._waiting.get(key)
        self._waiting[key] = request if known is None else known.merge(request)
        if known is None and key not in self._processing:
            self._ready.append(key)
            self._cond.notify()

    def add_after(
        self,
        key: str,
        request: Request,
        delay: float,
        *,
        slot: str | None = None,
        keep_earlier: bool = False,
    ) -> None:
        """``keep_earlier``: if the slot already has a timer, leave it (a throttle that
        a steady stream of triggers can not keep postponing)."""
        with self._cond:
            if not (keep_earlier and (key, slot) in self._slots):
                self._add_after(key, request, delay, slot)

    def add_rate_limited(self, key: str, request: Request) -> float:
        """Retry ``key`` after its backoff, which doubles with each failure until
        ``forget``; a retry already waiting is replaced. Returns the delay."""
        with self._cond:
            delay = self._backoff(key)
            self._failures[key] = self._failures.get(key, 0) + 1
            self._add_after(key, request, delay, RETRY)
            return delay

    def next_backoff(self, key: str) -> float:
        """The delay ``add_rate_limited`` would give ``key`` now."""
        with self._cond:
            return self._backoff(key)

    def forget(self, key: str) -> None:
        """The key's pass succeeded: its next failure waits ``backoff_initial`` again
        (a retry already waiting stays)."""
        with self._cond:
            self._failures.pop(key, None)

    def add_now(self, key: str, request: Request) -> None:
        """Look at ``key`` at once, whatever its backoff: its failures are forgotten
        and the retry it waited for is dropped."""
        with self._cond:
            self._failures.pop(key, None)
            self._slots.pop((key, RETRY), None)
            if not self._closed:
                self._add(key, request)

    def cancel(self, key: str, slot: str) -> None:
        """Forget the key's pending timer in ``slot``, if any."""
        with self._cond:
            self._slots.pop((key, slot), None)

    def drop(self, key: str) -> None:
        """Drop everything waiting, scheduled or counted for ``key`` (the router is
        gone)."""
        with self._cond:
            self._failures.pop(key, None)
            self._waiting.pop(key, None)
            if key in self._ready:
                self._ready.remove(key)
            timers = [t for t in self._timers if t[2] != key]
            if len(timers) != len(self._timers):
                self._timers = timers
                heapq.heapify(self._timers)
            for slot_key in [k for k in self._slots if k[0] == key]:
                del self._slots[slot_key]

    # --- consumers -----------------------------------------------------------------

    def get(self, timeout: float | None = None) -> tuple[str, Request] | None:
        """The next key and its merged request; None on shutdown or after ``timeout``."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while True:
                if self._closed:
                    return None
                self._fire_timers()
                if self._ready:
                    key = self._ready.popleft()
                    self._processing.add(key)
                    return key, self._waiting.pop(key)
                wait = self._next_timer_in()
                if deadline is not None:
                    left = deadline - self._clock()
                    if left <= 0:
                        return None
                    wait = left if wait is None else min(wait, left)
                self._cond.wait(wait)

    def done(self, key: str) -> None:
        """The pass of ``key`` ended; if it was added meanwhile, it is ready again."""
        with self._cond:
            self._processing.discard(key)
            if key in self._waiting and key not in self._ready:
                self._ready.append(key)
                self._cond.notify()

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # --- introspection (metrics) ---------------------------------------------------

    def depth(self) -> int:
        with self._cond:
            return len(self._ready)

    def scheduled(self) -> int:
        with self._cond:
            return len(self._timers)

    # --- internals (lock held) -----------------------------------------------------

    def _add_after(self, key: str, request: Request, delay: float, slot: str | None) -> None:
        if self._closed:
            return
        seq = next(self._seq)
        if slot is not None:
            self._slots[(key, slot)] = seq  # an older timer in this slot is now stale
        due = self._clock() + max(delay, 0.0)
        heapq.heappush(self._timers, (due, seq, key, slot, request))
        self._cond.notify()  # the earliest due time may have changed

    def _backoff(self, key: str) -> float:
        failures = min(self._failures.get(key, 0), 32)  # 2**32 x initial: past any max
        return min(self._backoff_initial * (1 << failures), self._backoff_max)

    def _fire_timers(self) -> None:
        now = self._clock()
        while self._timers and self._timers[0][0] <= now:
            _due, seq, key, slot, request = heapq.heappop(self._timers)
            if slot is not None:
                if self._slots.get((key, slot)) != seq:
                    continue  # replaced by a newer timer in its slot, or cancelled
                del self._slots[(key, slot)]
            self._add(key, request)

    def _next_timer_in(self) -> float | None:
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - self._clock())
