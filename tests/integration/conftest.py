"""The orchestrator as a real process, stopped after each test.

``backend``: SQLite unless a module asks for both with
``pytestmark = BOTH_BACKENDS`` (the tests that matter for the store run on
PostgreSQL too: a fresh database of the session's server per test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdwan.lab import wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.conftest import BACKENDS

BOTH_BACKENDS = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str | None:
    """None: an SQLite file in the orchestrator's directory; else a PostgreSQL URL."""
    if getattr(request, "param", "sqlite") == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return url
    return None


@pytest.fixture
def orchestrator(
    tmp_path: Path, lab_environment: object, backend: str | None
) -> Iterator[OrchestratorProcess]:
    proc = OrchestratorProcess(tmp_path / "orchestrator", database_url=backend)
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
) -> dict[str, Any]:
    """Poll a resource until it reaches ``status`` (at ``min_version`` or later)."""
    with orch.client() as client:

        def reached() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(path).json()
            if body.get("status") == status and body.get("version", 0) >= min_version:
                return body
            return None

        return wait_for(reached, timeout=timeout, what=f"{path} {status}")
