"""The stores a test may run on: SQLite and PostgreSQL (SDWAN_TEST_BACKENDS=sqlite or
=postgresql: only one). ``database_url`` (tests/conftest.py) runs a unit test on each;
an integration module asks for both with ``pytestmark = BOTH_BACKENDS`` (its
``backend`` fixture, tests/integration/conftest.py)."""

from __future__ import annotations

import os

import pytest

BACKENDS = os.environ.get("SDWAN_TEST_BACKENDS", "sqlite,postgresql").replace(",", " ").split()
BOTH_BACKENDS = pytest.mark.parametrize("backend", BACKENDS, indirect=True)
