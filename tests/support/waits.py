"""Polling to a deadline (never a sleep standing in for a condition): ``wait_for`` with
the in-process tests' short polls, ``wait_status`` for a resource of a real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sdwan import polling
from sdwan.lab.server_process import OrchestratorProcess

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T | None], timeout: float = 20.0, what: str = "condition"
) -> T:
    """sdwan.polling.wait_for with the unit tests' defaults: short polls, and a deadline
    that a loaded 2-core CI runner meets (it only costs a test that is failing anyway)."""
    return polling.wait_for(condition, timeout=timeout, what=what, interval=0.01)


def wait_status(
    orch: OrchestratorProcess,
    path: str,
    status: str,
    *,
    timeout: float = 15.0,
    min_version: int = 0,
) -> dict[str, Any]:
    """Poll a resource until it reaches ``status`` (at ``min_version`` or later)."""
    with orch.client() as client:

        def reached() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(path).json()
            if body.get("status") == status and body.get("version", 0) >= min_version:
                return body
            return None

        return polling.wait_for(reached, timeout=timeout, what=f"{path} {status}")
