"""Slowing down password guessing: failed logins are counted per user name and per
client address; past ``free`` failures within ``window`` seconds, that key is locked
for a delay that doubles with each further failure (up to ``max_delay``), and login
attempts on it answer 429 with Retry-After, without checking the password. Memory is
bounded: at most ``max_keys`` keys are tracked, the least recently used dropped."""

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
    failures: int
    first: float  # time of the first failure in the window
    locked_until: float


class Attempt:
    def __init__(self, throttle: LoginThrottle, keys: tuple[str, ...]) -> None:
        self._throttle = throttle
        self._keys = keys

    def failed(self) -> None:
        self._throttle._failed(self._keys)

    def succeeded(self) -> None:
        self._throttle._succeeded(self._keys[0])  # the user's count; the address keeps its


class LoginThrottle:
    def __init__(
        self,
        *,
        free: int = 5,
        window: float = 900.0,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.window = free, window
        self.base_delay, self.max_delay = base_delay, max_delay
        self.max_keys = max_keys
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, username: str, address: str) -> Attempt:
        """Raise 429 if the user or the address is locked; else an Attempt to report."""
        keys = (f"user:{username.lower()}", f"addr:{address}")
        now = self._clock()
        with self._lock:
            wait = max((self._wait(key, now) for key in keys), default=0.0)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyRequests(
                f"too many failed logins; try again in {seconds} s", retry_after=seconds
            )
        return Attempt(self, keys)

    def _wait(self, key: str, now: float) -> float:
        record = self._records.get(key)
        return 0.0 if record is None else max(0.0, record.locked_until - now)

    def _failed(self, keys: tuple[str, ...]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                record = self._records.pop(key, None)
                if record is None or now - record.first > self.window:
                    record = _Record(0, now, 0.0)
                record.failures += 1
                excess = record.failures - self.free
                if excess > 0:
                    delay = min(self.max_delay, self.base_delay * 2 ** (excess - 1))
                    record.locked_until = now + delay
                self._records[key] = record  # most recently used last
            while len(self._records) > self.max_keys:
                self._records.popitem(last=False)

    def _succeeded(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def __len__(self) -> int:
        return len(self._records)
