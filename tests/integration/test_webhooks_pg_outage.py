"""PostgreSQL stopped while webhook deliveries are under way: the API answers 503 and
the dispatcher waits; once the database is back every accepted event reaches the
receiver, in order, without a failure in the server's log. A PostgreSQL of its own
(the session's server stays up for the other tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sdwan.lab import wait_for
from sdwan.lab.postgres import PostgresServer
from sdwan.lab.server_process import OrchestratorProcess
from sdwan.lab.webhook_receiver import WebhookReceiver
from tests.integration.test_webhooks import add_hook, add_sites
from tests.support.backends import own_postgres


@pytest.fixture
def server(postgres: PostgresServer) -> Iterator[PostgresServer]:
    yield from own_postgres(postgres, 2)


def in_order(ids: list[str]) -> list[str]:
    """At least once: a delivery under way when the database went away may come
    twice, one right after the other; each id once, in the order first seen."""
    seen: list[str] = []
    for resource_id in ids:
        if not seen or seen[-1] != resource_id:
            seen.append(resource_id)
    return seen


def test_deliveries_wait_out_a_database_outage(
    tmp_path: Path, server: PostgresServer, lab_environment: object
) -> None:
    orch = OrchestratorProcess(tmp_path / "orch", database_url=server.create_database("hooks"))
    with WebhookReceiver(delay=0.5) as receiver, orch, orch.client() as api:
        add_hook(api, "patient", receiver.url())
        ids, _ = add_sites(api, "p", 8)
        wait_for(lambda: len(receiver.received) >= 2, timeout=20, what="deliveries under way")
        server.stop("fast")
        try:
            wait_for(
                lambda: api.get("/v1/sites").status_code == 503,
                timeout=20,
                what="503 while the database is away",
            )
            assert len(receiver.delivered) < len(ids)  # some were still queued
        finally:
            server.start()
        wait_for(
            lambda: (
                len(in_order([r.json()["resource_id"] for r in receiver.delivered])) == len(ids)
            ),
            timeout=60,
            what="every delivery after the outage",
        )
        assert in_order([r.json()["resource_id"] for r in receiver.delivered]) == ids
    log = orch.log_tail(400)
    assert "Traceback" not in log and "never retrieved" not in log, log
