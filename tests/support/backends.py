"""The stores a test may run on: SQLite and PostgreSQL (SDWAN_TEST_BACKENDS=sqlite or
=postgresql: only one). ``database_url`` (tests/conftest.py) runs a unit test on each;
an integration module asks for both with ``pytestmark = BOTH_BACKENDS`` (its
``backend`` fixture, tests/integration/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sdwan.lab.postgres import PostgresServer

BACKENDS = os.environ.get("SDWAN_TEST_BACKENDS", "sqlite,postgresql").replace(",", " ").split()
BOTH_BACKENDS = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


def own_postgres(postgres: PostgresServer, offset: int) -> Iterator[PostgresServer]:
    """A durable PostgreSQL of a test's own, on the session server's port + ``offset``,
    for a test that stops it (the session's server stays up for the other tests);
    closed after the test."""
    own = PostgresServer(port=postgres.port + offset, durable=True)
    try:
        own.start()
        yield own
    finally:
        own.close()
