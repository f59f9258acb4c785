"""Faults in a fleet of three replicas on PostgreSQL, checked on gobgpd itself: a
replica SIGKILLed has its routers taken over once its lease runs out (about 1.2
leases; the test allows four, which a loaded machine keeps) without a session reset;
a replica SIGSTOPped past its lease applies nothing from before its pause; a rolling
restart of every replica resets no session."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdwan.lab import GobgpdFactory, Lab, wait_for
from sdwan.lab.replicas import ReplicaFleet
from tests.support.replica_lab import (
    Pair,
    established,
    fleet_fixture,
    full_runs,
    no_tracebacks,
    peer_addresses,
    peering_pair,
    sessions,
    unread_requests,
)

LEASE = 3.0


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str, lab_environment: object) -> Iterator[ReplicaFleet]:
    # gRPC calls may wait a minute: the SIGSTOP test holds a pass inside one on purpose
    yield from fleet_fixture(tmp_path, pg_url, lease=LEASE, extra_env={"SDWAN_GRPC_TIMEOUT": "60"})


@pytest.fixture
def pair(lab: Lab, gobgpd_factory: GobgpdFactory, fleet: ReplicaFleet) -> Pair:
    return peering_pair(lab, gobgpd_factory, fleet)


def test_sigkill_takeover_after_the_lease_resets_no_session(
    fleet: ReplicaFleet, pair: Pair
) -> None:
    owners = fleet.wait_owned({"A", "B"}, within={"s0", "s1", "s2"})
    before = sessions(pair)
    victim = fleet.by_name(owners["A"])
    survivors = fleet.names_but(victim)
    killed_at = time.monotonic()
    victim.kill()
    moved = fleet.wait_owned({"A", "B"}, within=survivors, timeout=4 * LEASE)
    print(f"\ntakeover after SIGKILL: {time.monotonic() - killed_at:.1f} s (lease {LEASE} s)")
    # the new owner's first act is a full pass: it read gobgpd and changed nothing
    heir = fleet.by_name(moved["A"])
    with heir.client() as api:
        wait_for(lambda: full_runs(api, "A") >= 1, timeout=10, what="the heir's full pass")
        router = api.get("/v1/routers/A").json()
        assert router["status"] == "ACTIVE" and router["owner"] == heir.replica_name
    assert established(pair)
    assert sessions(pair) == before  # same uptimes, no flop on either side
    live = fleet.wait_live(2)
    assert sum(r["routers"] for r in live) == 2
    no_tracebacks(fleet)


def test_a_paused_replica_applies_nothing_from_before_its_pause(
    fleet: ReplicaFleet, pair: Pair
) -> None:
    owner = fleet.by_name(fleet.wait_owned({"A"}, within={"s0", "s1", "s2"})["A"])
    other = next(r for r in fleet.replicas if r is not owner)
    stale = "198.18.8.1"
    assert pair.a.pid is not None
    # gobgpd of A stops answering, and a change comes for A: the owner's pass reads the
    # store (the new neighbor is wanted), sends ListPeer and waits inside it...
    os.kill(pair.a.pid, signal.SIGSTOP)
    try:
        with other.client() as api:
            made = api.post(
                "/v1/neighbors", json={"router": "A", "address": stale, "peer_asn": 65100}
            )
            assert made.status_code == 201, made.text
        wait_for(
            lambda: unread_requests(pair.a.socket_path) > 0,
            timeout=10,
            what="the owner's ListPeer waiting on the paused gobgpd",
        )
        owner.pause()  # ...when its own process is stopped, plan in hand
    finally:
        os.kill(pair.a.pid, signal.SIGCONT)
    try:
        survivors = fleet.names_but(owner)
        heir_name = fleet.wait_owned({"A"}, within=survivors, timeout=4 * LEASE)["A"]
        heir = fleet.by_name(heir_name)
        with heir.client() as api:  # the heir applies it, then the user deletes it
            wait_for(lambda: stale in peer_addresses(pair.a), timeout=15, what="added by heir")
            path = f"/v1/neighbors/{made.json()['id']}"
            wait_for(lambda: api.get(path).json()["status"] == "ACTIVE", timeout=15, what="ACTIVE")
            assert api.delete(path).status_code == 202
            wait_for(lambda: api.get(path).status_code == 404, timeout=15, what="deleted")
        assert stale not in peer_addresses(pair.a)
    finally:
        owner.resume()  # its pass wakes up with the ListPeer answer and its old plan
    deadline = time.monotonic() + 2 * LEASE
    while time.monotonic() < deadline:  # observed, not waited for: it must never come back
        assert stale not in peer_addresses(pair.a), "the paused replica applied a stale plan"
        time.sleep(0.05)
    assert "the pass stopped, applying nothing more" in owner.log_path.read_text()
    fleet.wait_live(3)  # it rejoins and takes its share again, from fresh reads
    fleet.wait_owned({"A", "B"}, within={"s0", "s1", "s2"})
    assert stale not in peer_addresses(pair.a)
    assert established(pair)


def test_a_rolling_restart_of_every_replica_resets_no_session(
    fleet: ReplicaFleet, pair: Pair
) -> None:
    fleet.wait_owned({"A", "B"}, within={"s0", "s1", "s2"})
    before = sessions(pair)
    for replica in fleet.replicas:
        others = fleet.names_but(replica)
        replica.stop()  # a clean stop hands its routers over at once
        fleet.wait_owned({"A", "B"}, within=others, timeout=4 * LEASE)
        replica.start(timeout=60)
        fleet.wait_live(3)
    fleet.wait_owned({"A", "B"}, within={"s0", "s1", "s2"})
    assert established(pair)
    assert sessions(pair) == before
    no_tracebacks(fleet)
