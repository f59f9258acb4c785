"""Three `sdwan serve` replicas on one PostgreSQL, real gobgpd: routers spread evenly,
a write through any replica reaches gobgpd through the router's owner, events caused
anywhere reach the SSE stream of any replica, If-Match writers on different replicas
never lose an update."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, wait_for
from sdwan.lab.postgres import PostgresServer
from sdwan.lab.replicas import ReplicaFleet
from tests.support.event_stream import Stream
from tests.support.lab import LabSession

LEASE = 2.0
ROUTERS = 6


def peers(daemon: GobgpdProcess) -> set[str]:
    replies = daemon.grpc_stub().ListPeer(pb.ListPeerRequest(), timeout=5)
    return {r.peer.conf.neighbor_address for r in replies}


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory,
    postgres: PostgresServer,
    pg_template: str,
    lab_environment: LabSession,
) -> Iterator[ReplicaFleet]:
    """One fleet for the module's tests (starting three replicas is what costs)."""
    name = "m_" + secrets.token_hex(6)
    url = postgres.create_database(name, template=pg_template)
    # read-backs every 5 minutes: anything faster than that came through the change feed
    replicas = ReplicaFleet(
        tmp_path_factory.mktemp("fleet"),
        url,
        lease=LEASE,
        extra_env={"SDWAN_RECONCILE_INTERVAL": "300"},
    )
    try:
        replicas.start()
        yield replicas
    finally:
        replicas.stop()
        postgres.drop_database(name)
    for replica in replicas.replicas:
        log = replica.log_path.read_text(errors="replace")
        assert "Traceback" not in log, replica.log_tail(60)


@pytest.fixture(scope="module")
def daemons(
    tmp_path_factory: pytest.TempPathFactory, lab_environment: LabSession, fleet: ReplicaFleet
) -> Iterator[list[GobgpdProcess]]:
    """ROUTERS gobgpd, declared through the first replica, all ACTIVE and owned."""
    prefix = "t" + secrets.token_hex(3)
    lab_environment.prefixes.append(prefix)
    factory = GobgpdFactory(tmp_path_factory.mktemp("gobgpd"), prefix=prefix)
    try:
        started = [factory(f"g{i}") for i in range(ROUTERS)]
        body = {
            "items": [
                {
                    "name": f"r{i}",
                    "router_id": f"198.19.0.{i + 1}",
                    "asn": 65001,
                    "api_address": d.api_address,
                    "listen_port": -1,
                }
                for i, d in enumerate(started)
            ]
        }
        with fleet[0].client() as api:
            assert api.post("/v1/routers/bulk", json=body).status_code == 201

            def all_active() -> bool:
                items = api.get("/v1/routers").json()["items"]
                return all(r["status"] == "ACTIVE" and r["owner"] for r in items)

            wait_for(all_active, timeout=30, what="every router ACTIVE and owned")
        yield started
    finally:
        factory.close_all()


def test_routers_spread_evenly_and_every_replica_says_who_drives_what(
    fleet: ReplicaFleet, daemons: list[GobgpdProcess]
) -> None:
    names = {f"r{i}" for i in range(ROUTERS)}
    owners = fleet.wait_owned(names, within={"s0", "s1", "s2"})
    load = {name: sum(1 for o in owners.values() if o == name) for name in ("s0", "s1", "s2")}
    assert load == {"s0": 2, "s1": 2, "s2": 2}  # the fair share exactly
    for via in fleet.replicas:  # any replica answers the same
        assert fleet.owners(via) == owners
        listed = {r["name"]: r for r in fleet.replica_list(via)}
        assert {n: (r["live"], r["routers"]) for n, r in listed.items()} == {
            "s0": (True, 2),
            "s1": (True, 2),
            "s2": (True, 2),
        }
        assert [n for n, r in listed.items() if r["this"]] == [via.replica_name]
    table = fleet[1].cli("replica", "list").stdout
    assert all(f"| {name} " in table for name in ("s0", "s1", "s2")) and "live" in table
    routers = fleet[2].cli("router", "list").stdout
    assert "OWNER" in routers and all(f"| {owners[n]} " in routers for n in names)


def test_a_write_through_one_replica_reaches_gobgpd_through_the_owner(
    fleet: ReplicaFleet, daemons: list[GobgpdProcess]
) -> None:
    owners = fleet.owners()
    # a router s0 does not drive, written through s0, read back through the third one
    name = next(n for n, o in sorted(owners.items()) if o != "s0")
    index = int(name[1:])
    other = next(r for r in fleet.replicas if r.replica_name not in ("s0", owners[name]))
    with fleet[0].client() as api:
        made = api.post(
            "/v1/neighbors", json={"router": name, "address": "198.18.5.1", "peer_asn": 65000}
        )
        assert made.status_code == 201, made.text
    # the resync is 5 minutes away: only the change feed brings it there this fast
    wait_for(lambda: "198.18.5.1" in peers(daemons[index]), timeout=10, what="the peer")
    with other.client() as api:
        wait_for(
            lambda: api.get(f"/v1/neighbors/{made.json()['id']}").json()["status"] == "ACTIVE",
            timeout=10,
            what="ACTIVE seen through the third replica",
        )
        deleted = api.delete(f"/v1/neighbors/{made.json()['id']}")
        assert deleted.status_code in (200, 202), deleted.text
    wait_for(lambda: "198.18.5.1" not in peers(daemons[index]), timeout=10, what="peer gone")


def test_the_event_stream_of_any_replica_shows_events_caused_anywhere(
    fleet: ReplicaFleet, daemons: list[GobgpdProcess]
) -> None:
    owners = fleet.owners()
    name = next(n for n, o in sorted(owners.items()) if o == "s1")
    stream = Stream(f"{fleet[2].url}/v1/events?follow=true")  # on s2 ...
    try:
        with fleet[0].client() as api:  # ... a write through s0 ...
            made = api.post(
                "/v1/neighbors",
                json={"router": name, "address": "198.18.6.1", "peer_asn": 65000},
            ).json()
        # ... applied by s1: its status event and the session event it observed
        found = stream.collect(
            {
                "created": lambda e: (
                    e["kind"] == "resource.created" and e["resource_id"] == made["id"]
                ),
                "active": lambda e: (
                    e["kind"] == "status.changed"
                    and e["resource_id"] == made["id"]
                    and e["data"].get("status") == "ACTIVE"
                ),
                "session": lambda e: (
                    e["kind"] == "session.changed" and e["resource_id"] == made["id"]
                ),
            }
        )
    finally:
        stream.stop.set()
    assert found["created"]["id"] < found["active"]["id"]
    with fleet[2].client() as api:  # the history: ids in order, nothing in between lost
        ids = [e["id"] for e in api.get("/v1/events", params={"limit": 1000}).json()["items"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_if_match_writers_on_different_replicas_never_lose_an_update(
    fleet: ReplicaFleet, daemons: list[GobgpdProcess]
) -> None:
    with fleet[0].client() as api:
        made = api.post(
            "/v1/neighbors",
            json={"router": "r0", "address": "198.18.7.1", "peer_asn": 65000, "description": ""},
        ).json()
    path = f"/v1/neighbors/{made['id']}"
    rounds = 15
    applied: dict[str, list[str]] = {}
    conflicts: dict[str, int] = {}
    failures: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            write(index)
        except BaseException as exc:  # handed to the test's thread below
            failures.append(exc)

    def write(index: int) -> None:
        name = f"w{index}"
        applied[name], conflicts[name] = [], 0
        with fleet[index].client() as api:
            for n in range(rounds):
                mark = f"{name}.{n}"
                for _attempt in range(100):  # read, change, write back if unchanged
                    current = api.get(path).json()
                    words = [w for w in current["description"].split() if w]
                    answer = api.patch(
                        path,
                        json={"description": " ".join([*words, mark])},
                        headers={"If-Match": f'"{current["version"]}"'},
                    )
                    if answer.status_code == 200:
                        applied[name].append(mark)
                        break
                    assert answer.status_code == 412, answer.text
                    conflicts[name] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if failures:
        raise failures[0]
    with fleet[0].client() as api:
        final = api.get(path).json()
    words = final["description"].split()
    assert sorted(words) == sorted(applied["w1"] + applied["w2"])  # every update kept
    assert len(words) == 2 * rounds
    assert final["version"] == 1 + 2 * rounds
    # they did collide (otherwise this proved nothing), and each collision was a 412
    assert sum(conflicts.values()) >= 1, conflicts


def test_a_second_replica_with_a_name_in_use_or_another_key_refuses_to_start(
    fleet: ReplicaFleet, tmp_path: Path
) -> None:
    from sdwan.lab.server_process import OrchestratorProcess

    twin = OrchestratorProcess(
        tmp_path / "twin",
        database_url=fleet.database_url,
        replica_name="s1",
        secret_key_file=fleet.key_file,
        extra_env={"SDWAN_LEASE_SECONDS": "1"},
    )
    with pytest.raises(RuntimeError):
        twin.start(timeout=30)
    assert "another replica named 's1' is running" in twin.log_tail()
    stranger = OrchestratorProcess(
        tmp_path / "stranger", database_url=fleet.database_url, replica_name="s9"
    )  # a key file of its own
    with pytest.raises(RuntimeError):
        stranger.start(timeout=30)
    assert "is not the key this database was set up with" in stranger.log_tail()
    assert httpx.get(f"{fleet[1].url}/healthz").status_code == 200
