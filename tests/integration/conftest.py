"""The orchestrator as a real process, stopped after each test.

``backend``: SQLite unless a module asks for both with ``pytestmark = BOTH_BACKENDS``
(tests/support/backends.py: the tests that matter for the store run on PostgreSQL
too, a fresh database of the session's server per test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sdwan.lab.server_process import OrchestratorProcess


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
