"""The orchestrator as a real process, stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sdwan.lab import wait_for
from sdwan.lab.orchestrator import OrchestratorProcess


@pytest.fixture
def orchestrator(tmp_path: Path, lab_environment: object) -> Iterator[OrchestratorProcess]:
    proc = OrchestratorProcess(tmp_path / "orchestrator")
    proc.start()
    yield proc
    proc.stop()


def wait_status(
    orch: OrchestratorProcess,
    path: str,
    status: str,
    *,
    timeout: float = 15.0,
    min_version: int = 0,
) -> dict:
    """Poll a resource until it reaches ``status`` (at ``min_version`` or later)."""
    with orch.client() as client:

        def reached() -> dict | None:
            body = client.get(path).json()
            if body.get("status") == status and body.get("version", 0) >= min_version:
                return body
            return None

        result: dict = wait_for(reached, timeout=timeout, what=f"{path} {status}")
        return result
