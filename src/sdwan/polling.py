"""The one poll-to-deadline helper: the lab, the benchmarks and the tests wait for a
condition with it instead of sleeping for a guessed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
POLL_INTERVAL = 0.05


def wait_for(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = POLL_INTERVAL,
) -> T:
    """Poll ``condition`` until it returns a truthy value (which is returned: never
    None, hence ``T`` for a condition that returns ``T | None``).

    Raises :class:`TimeoutError` naming ``what`` and the last value seen once
    ``timeout`` seconds have passed. ``interval`` is only the pause between polls.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"timed out after {timeout:g}s waiting for {what} (last value: {result!r})"
            )
        time.sleep(interval)
