"""A rollout survives the loss of the replica driving it (issue 24, item 2): two
`sdwan serve` replicas on one PostgreSQL, three gobgpd; the replica holding the
rollouts' lock is killed (SIGKILL) while the canary's gate runs, the other takes the
job over, finishes the rollout, and every gobgpd has the change."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from sdwan.gobgp.paths import Table, list_path_request
from sdwan.lab import GobgpdFactory, GobgpdProcess, wait_for
from sdwan.lab.replicas import ReplicaFleet
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.lab import LabSession

PREFIX = "203.0.113.0/25"
LEADS = "rollouts: this replica leads"


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str, lab_environment: LabSession) -> Iterator[ReplicaFleet]:
    replicas = ReplicaFleet(
        tmp_path / "fleet",
        pg_url,
        count=2,
        lease=2.0,
        extra_env={"SDWAN_ROLLOUT_SETTLE": "2", "SDWAN_RECONCILE_INTERVAL": "300"},
    )
    try:
        replicas.start()
        yield replicas
    finally:
        replicas.stop()


@pytest.fixture
def daemons(
    tmp_path: Path, lab_environment: LabSession, fleet: ReplicaFleet
) -> Iterator[list[GobgpdProcess]]:
    prefix = "t" + secrets.token_hex(3)
    lab_environment.prefixes.append(prefix)
    factory = GobgpdFactory(tmp_path / "gobgpd", prefix=prefix)
    try:
        yield [factory(f"g{i}") for i in range(3)]
    finally:
        factory.close_all()


def _announced(daemon: GobgpdProcess) -> bool:
    request = list_path_request(Table.GLOBAL, "ipv4-unicast", prefix=PREFIX)
    return any(True for _ in daemon.grpc_stub().ListPath(request, timeout=5))


def _leader(fleet: ReplicaFleet) -> OrchestratorProcess | None:
    found = [r for r in fleet.replicas if LEADS in r.log_path.read_text(errors="replace")]
    return found[0] if len(found) == 1 else None


def test_the_replica_driving_a_rollout_dies_and_the_other_finishes_it(
    fleet: ReplicaFleet, daemons: list[GobgpdProcess]
) -> None:
    routers = [
        {
            "name": f"r{i}",
            "asn": 65001,
            "router_id": f"198.19.0.{i + 1}",
            "api_address": daemon.api_address,
            "listen_port": -1,
        }
        for i, daemon in enumerate(daemons)
    ]
    with fleet[0].client() as api:
        assert api.post("/v1/fleet/apply", json={"fleet": {"routers": routers}}).is_success
        wait_for(
            lambda: all(r["status"] == "ACTIVE" for r in api.get("/v1/routers").json()["items"]),
            timeout=40,
            what="every router ACTIVE",
        )
        changed = [dict(r, announcements=[{"prefix": PREFIX}]) for r in routers]
        body = {"fleet": {"routers": changed}, "stages": ["1", "100%"]}
        answer = api.post("/v1/fleet/apply", json=body)
    assert answer.status_code == 202, answer.text
    rollout = answer.json()["rollout"]
    leader = wait_for(partial(_leader, fleet), timeout=20, what="a replica leading rollouts")
    with leader.client() as api:
        wait_for(
            lambda: api.get(f"/v1/rollouts/{rollout}").json()["state"] == "gating",
            timeout=30,
            what="the canary's wave applied",
        )
    leader.kill()
    (survivor,) = [r for r in fleet.replicas if r is not leader]
    with survivor.client() as api:
        wait_for(
            lambda: api.get(f"/v1/rollouts/{rollout}").json()["state"] in ("done", "failed"),
            timeout=60,
            what="the rollout finished by the other replica",
        )
        found = api.get(f"/v1/rollouts/{rollout}").json()
    assert found["state"] == "done", found
    assert len(found["wave_revisions"]) == 2
    assert LEADS in survivor.log_path.read_text(errors="replace")
    for daemon in daemons:
        wait_for(partial(_announced, daemon), timeout=30, what=f"{PREFIX} on {daemon.name}")
    assert "Traceback" not in survivor.log_path.read_text(errors="replace")
