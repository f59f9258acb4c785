"""Slowing down password guessing.

Two counters per attempt: the user name *and* client address together, and the
client address alone (password spraying). Nobody can lock a user out from an
address of their own: a user's lock holds only for the address that guessed.
Past ``free`` attempts (``address_free`` for an address) within ``window`` seconds,
each further attempt locks its key for a delay that doubles (up to ``max_delay``);
while locked, attempts answer 429 with Retry-After without checking the password.

An attempt is counted *before* its password is checked and forgotten again when it
succeeds, so guesses sent in parallel are counted like guesses sent one after the
other. Memory is bounded: at most ``max_keys`` keys are tracked, least recently used
dropped first."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sdwan.errors import TooManyRequests


@dataclass
class _Record:
    attempts: int
    first: float  # time of the first attempt in the window
    locked_until: float
    delay: float = 0.0  # the lock the last counted attempt started


class Attempt:
    """One login attempt, already counted. ``locked``: counting it locked a key (the
    next attempt on it is refused for a while): worth an audit entry."""

    def __init__(self, throttle: LoginThrottle, keys: tuple[str, ...], locked: bool) -> None:
        self._throttle = throttle
        self._keys = keys
        self.locked = locked

    def failed(self) -> None:
        """The attempt was counted when it began; a lock it started runs from now, the
        moment the caller learns of the failure (checking a password takes a while:
        a lock started before it could otherwise be over before the next guess)."""
        self._throttle._failed(self._keys)

    def succeeded(self) -> None:
        self._throttle._succeeded(self._keys)


class LoginThrottle:
    def __init__(
        self,
        *,
        free: int = 5,
        address_free: int = 10,
        window: float = 900.0,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.address_free, self.window = free, address_free, window
        self.base_delay, self.max_delay = base_delay, max_delay
        self.max_keys = max_keys
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, username: str, address: str) -> Attempt:
        """Raise 429 if the user at this address, or the address, is locked; else
        count the attempt and return it (report success with ``succeeded``)."""
        keys = (f"user:{username.lower()}|{address}", f"addr:{address}")
        now = self._clock()
        with self._lock:
            wait = max(self._wait(key, now) for key in keys)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise TooManyRequests(
                    f"too many failed logins; try again in {seconds} s", retry_after=seconds
                )
            locked = False
            for key, free in zip(keys, (self.free, self.address_free), strict=True):
                locked |= self._count(key, free, now)
            while len(self._records) > self.max_keys:
                self._records.popitem(last=False)
        return Attempt(self, keys, locked)

    def _wait(self, key: str, now: float) -> float:
        record = self._records.get(key)
        return 0.0 if record is None else max(0.0, record.locked_until - now)

    def _count(self, key: str, free: int, now: float) -> bool:
        record = self._records.pop(key, None)
        if record is None or now - record.first > self.window:
            record = _Record(0, now, 0.0)
        record.attempts += 1
        excess = record.attempts - free
        if excess > 0:
            record.delay = min(self.max_delay, self.base_delay * 2 ** (excess - 1))
            record.locked_until = now + record.delay
        self._records[key] = record  # most recently used last
        return excess > 0

    def _failed(self, keys: tuple[str, ...]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                record = self._records.get(key)
                if record is not None and record.delay > 0:
                    record.locked_until = max(record.locked_until, now + record.delay)

    def _succeeded(self, keys: tuple[str, ...]) -> None:
        """The user proved the password: its count at this address starts over; the
        address keeps its other failures (this attempt was not one)."""
        pair, address = keys
        with self._lock:
            self._records.pop(pair, None)
            record = self._records.get(address)
            if record is not None:
                record.attempts = max(0, record.attempts - 1)
                if record.attempts <= self.address_free:
                    record.locked_until = 0.0

    def __len__(self) -> int:
        return len(self._records)
