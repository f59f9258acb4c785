"""PostgreSQL restarted under a running fleet of three replicas: the API answers 503
with a clear error meanwhile (never 500), every replica reconnects by itself, nothing
the API accepted is lost, no BGP session is reset. A PostgreSQL of its own (the
session's server stays up for the other tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdwan.lab import GobgpdFactory, Lab, wait_for
from sdwan.lab.postgres import PostgresServer
from sdwan.lab.replicas import ReplicaFleet
from tests.support.backends import own_postgres
from tests.support.event_stream import Stream
from tests.support.replica_lab import (
    Pair,
    established,
    fleet_fixture,
    peer_addresses,
    peering_pair,
    sessions,
)

LEASE = 3.0


@pytest.fixture
def server(postgres: PostgresServer) -> Iterator[PostgresServer]:
    yield from own_postgres(postgres, 1)


@pytest.fixture
def fleet(
    tmp_path: Path, server: PostgresServer, lab_environment: object
) -> Iterator[ReplicaFleet]:
    yield from fleet_fixture(tmp_path, server.create_database("fleet"), lease=LEASE)


@pytest.fixture
def pair(lab: Lab, gobgpd_factory: GobgpdFactory, fleet: ReplicaFleet) -> Pair:
    return peering_pair(lab, gobgpd_factory, fleet)


def _unavailable(fleet: ReplicaFleet) -> list[dict[str, Any]]:
    """Every replica's answer to a read and to a write while the database is away."""
    bodies = []
    for replica in fleet.replicas:
        with replica.client() as api:
            for answer in (
                api.get("/v1/routers"),
                api.post(
                    "/v1/neighbors",
                    json={"router": "A", "address": "198.18.9.9", "peer_asn": 65009},
                ),
            ):
                if answer.status_code != 503:
                    return []
                assert answer.headers["retry-after"] == "1"
                bodies.append(answer.json())
        assert httpx.get(f"{replica.url}/healthz").status_code == 200  # the process lives
    return bodies


def test_postgresql_restarted_under_a_running_fleet(
    server: PostgresServer, fleet: ReplicaFleet, pair: Pair
) -> None:
    fleet.wait_owned({"A", "B"}, within={"s0", "s1", "s2"})
    # started together on an empty database: one of them ran the migrations
    migrated = [r for r in fleet.replicas if "Running upgrade" in r.log_path.read_text()]
    assert len(migrated) == 1, [r.replica_name for r in migrated]
    before = sessions(pair)
    accepted = "198.18.9.1"
    with fleet[0].client() as api:  # accepted just before the database goes away
        made = api.post(
            "/v1/neighbors", json={"router": "A", "address": accepted, "peer_asn": 65009}
        )
        assert made.status_code == 201, made.text
    stream = Stream(f"{fleet[2].url}/v1/events?follow=true")  # open across the outage
    server.stop("fast")
    try:
        bodies = wait_for(lambda: _unavailable(fleet), timeout=20, what="503 from every replica")
        for body in bodies:
            assert body["error"]["code"] == "database_unavailable"
            assert body["error"]["message"] == "the database is unavailable; retry shortly"
    finally:
        server.start()

    def answers() -> bool:
        for replica in fleet.replicas:
            with replica.client() as api:
                if api.get("/v1/routers").status_code != 200:
                    return False
        return True

    wait_for(answers, timeout=30, what="every replica answering again")
    fleet.wait_live(3)
    fleet.wait_owned({"A", "B"}, within={"s0", "s1", "s2"}, timeout=30)
    # nothing accepted is lost: the write from before the outage is on gobgpd
    wait_for(lambda: accepted in peer_addresses(pair.a), timeout=20, what="accepted write")
    # the change feed is back: a write through a replica that does not drive B reaches
    # B at once (read-backs are 5 minutes apart)
    via = next(r for r in fleet.replicas if r.replica_name != fleet.owners()["B"])
    with via.client() as api:
        answer = api.post(
            "/v1/neighbors", json={"router": "B", "address": "198.18.9.2", "peer_asn": 65009}
        )
        assert answer.status_code == 201, answer.text
    wait_for(lambda: "198.18.9.2" in peer_addresses(pair.b), timeout=10, what="write after")
    try:  # the stream opened before the outage goes on with events caused elsewhere
        created = stream.until(
            lambda e: e["kind"] == "resource.created" and e["resource_id"] == answer.json()["id"]
        )
        assert created["router_name"] == "B"
    finally:
        stream.stop.set()
    with fleet[2].client() as api:
        wait_for(
            lambda: api.get(f"/v1/neighbors/{made.json()['id']}").json()["status"] == "ACTIVE",
            timeout=20,
            what="the accepted neighbor ACTIVE",
        )
    assert established(pair)
    assert sessions(pair) == before  # the outage reset no session
    for replica in fleet.replicas:
        log = replica.log_path.read_text(errors="replace")
        assert "Traceback" not in log, replica.log_tail(80)
