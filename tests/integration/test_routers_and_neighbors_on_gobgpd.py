"""Routers and neighbors from the API and the CLI to real gobgpd, asserted on
gobgpd's own view over gRPC."""

from __future__ import annotations

import json
from typing import Any

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.backends import BOTH_BACKENDS
from tests.support.waits import wait_status

pytestmark = BOTH_BACKENDS


def _global(gobgpd: GobgpdProcess) -> pb.Global:
    answer: pb.GetBgpResponse = gobgpd.grpc_stub().GetBgp(pb.GetBgpRequest(), timeout=5)
    glob: pb.Global = getattr(answer, "global")  # a Python keyword as a field name
    return glob


def _peers(gobgpd: GobgpdProcess) -> dict[str, pb.Peer]:
    stub = gobgpd.grpc_stub()
    return {
        r.peer.conf.neighbor_address: r.peer for r in stub.ListPeer(pb.ListPeerRequest(), timeout=5)
    }


def _router_body(name: str, gobgpd: GobgpdProcess, **extra: object) -> dict[str, Any]:
    return {
        "name": name,
        "router_id": "198.18.0.1",
        "asn": 65001,
        "api_address": gobgpd.api_address,
        "listen_port": -1,
        **extra,
    }


def test_original_cli_steps_reach_gobgpd(
    orchestrator: OrchestratorProcess, gobgpd_factory: GobgpdFactory
) -> None:
    gobgpd = gobgpd_factory("g1")
    orchestrator.cli(
        "router",
        "create",
        "--host_name",
        "GoBGP-1",
        "--router_id",
        "10.0.1.1",
        "--local_as",
        "65001",
        "--mgmt_addr",
        gobgpd.api_address,
        "--listen-port",
        "-1",
    )
    orchestrator.cli(
        "neighbor",
        "create",
        "--host_name",
        "GoBGP-1",
        "--neighbor_addr",
        "198.18.11.11",
        "--peer_as",
        "65000",
        "--mgmt_addr",
        gobgpd.api_address,
    )
    orchestrator.cli(
        "neighbor",
        "create",
        "--host_name",
        "GoBGP-1",
        "--neighbor_addr",
        "198.18.12.12",
        "--peer_as",
        "65001",
        "--hold-time",
        "9",
        "--keepalive",
        "3",
        "--wait",
    )
    wait_for(lambda: len(_peers(gobgpd)) == 2, timeout=10, what="two peers on gobgpd")
    glob = _global(gobgpd)
    assert (glob.asn, glob.router_id) == (65001, "10.0.1.1")
    peers = _peers(gobgpd)
    assert peers["198.18.11.11"].conf.peer_asn == 65000
    assert peers["198.18.12.12"].conf.peer_asn == 65001
    assert peers["198.18.12.12"].timers.config.hold_time == 9
    assert peers["198.18.12.12"].timers.config.keepalive_interval == 3

    listed = orchestrator.cli("neighbor", "list", "-o", "json")
    rows = json.loads(listed.stdout)
    assert {r["address"] for r in rows} == {"198.18.11.11", "198.18.12.12"}
    table = orchestrator.cli("router", "list").stdout
    assert "GoBGP-1" in table and "10.0.1.1" in table

    bad = orchestrator.cli(
        "neighbor",
        "create",
        "--host_name",
        "GoBGP-1",
        "--neighbor_addr",
        "198.18.11",
        "--peer_as",
        "65000",
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ") and "address" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_delete_reaches_gobgpd(
    orchestrator: OrchestratorProcess, gobgpd_factory: GobgpdFactory
) -> None:
    gobgpd = gobgpd_factory("g1")
    with orchestrator.client() as api:
        assert api.post("/v1/routers", json=_router_body("r1", gobgpd)).status_code == 201
        items = [
            {"router": "r1", "address": f"198.18.1.{i}", "peer_asn": 65002} for i in range(1, 4)
        ]
        created = api.post("/v1/neighbors/bulk", json={"items": items}).json()["items"]
        wait_for(lambda: len(_peers(gobgpd)) == 3, timeout=10, what="three peers")
        assert api.delete(f"/v1/neighbors/{created[0]['id']}").status_code == 202
        wait_for(lambda: "198.18.1.1" not in _peers(gobgpd), timeout=10, what="peer removed")
        wait_for(
            lambda: api.get(f"/v1/neighbors/{created[0]['id']}").status_code == 404,
            timeout=10,
            what="neighbor row gone",
        )
        assert set(_peers(gobgpd)) == {"198.18.1.2", "198.18.1.3"}

        assert api.delete("/v1/routers/r1").status_code == 409
        assert api.delete("/v1/routers/r1", params={"cascade": "true"}).status_code == 202
        wait_for(lambda: _global(gobgpd).asn == 0, timeout=10, what="BGP stopped on gobgpd")
        wait_for(
            lambda: api.get("/v1/routers/r1").status_code == 404, timeout=10, what="router row gone"
        )
        assert _peers(gobgpd) == {}


def test_restarted_gobgpd_gets_its_config_back(
    orchestrator: OrchestratorProcess, gobgpd_factory: GobgpdFactory
) -> None:
    gobgpd = gobgpd_factory("g1")
    with orchestrator.client() as api:
        api.post("/v1/routers", json=_router_body("r1", gobgpd))
        items = [
            {
                "router": "r1",
                "address": f"198.18.2.{i}",
                "peer_asn": 65000 + i,
                "password": f"pw{i}",
            }
            for i in range(1, 11)
        ]
        assert api.post("/v1/neighbors/bulk", json={"items": items}).status_code == 201
        wait_for(lambda: len(_peers(gobgpd)) == 10, timeout=10, what="ten peers")
        wait_status(orchestrator, "/v1/routers/r1", "ACTIVE")

        old_pid = gobgpd.pid
        gobgpd.kill()
        gobgpd.restart()  # a new, empty gobgpd (the reconciler may refill it at once)
        assert gobgpd.pid != old_pid
        # nobody touches the API: the reconciler notices and re-applies everything
        wait_for(lambda: len(_peers(gobgpd)) == 10, timeout=15, what="peers restored")
        peers = _peers(gobgpd)
        assert _global(gobgpd).asn == 65001
        assert peers["198.18.2.7"].conf.peer_asn == 65007
        assert peers["198.18.2.7"].conf.auth_password == "pw7"
        wait_status(orchestrator, "/v1/routers/r1", "ACTIVE")


def test_unreachable_gobgpd_is_error_then_recovers(
    orchestrator: OrchestratorProcess, gobgpd_factory: GobgpdFactory
) -> None:
    gobgpd = gobgpd_factory("g1", start=False)
    with orchestrator.client() as api:
        api.post("/v1/routers", json=_router_body("r1", gobgpd))
        error = wait_status(orchestrator, "/v1/routers/r1", "ERROR")
        assert "unreachable" in error["status_detail"]
        assert gobgpd.api_address in error["status_detail"]
        gobgpd.start()
        wait_status(orchestrator, "/v1/routers/r1", "ACTIVE", timeout=40)
        assert _global(gobgpd).asn == 65001


def test_asn_change_restarts_bgp(
    orchestrator: OrchestratorProcess, gobgpd_factory: GobgpdFactory
) -> None:
    gobgpd = gobgpd_factory("g1")
    with orchestrator.client() as api:
        api.post("/v1/routers", json=_router_body("r1", gobgpd))
        api.post("/v1/neighbors", json={"router": "r1", "address": "198.18.3.1", "peer_asn": 65000})
        wait_status(orchestrator, "/v1/routers/r1", "ACTIVE")
        wait_for(lambda: len(_peers(gobgpd)) == 1, timeout=10, what="peer")
        answer = api.patch("/v1/routers/r1", json={"asn": 4200000001, "router_id": "198.18.0.9"})
        assert answer.status_code == 200
        assert any("all 1 of its sessions reset" in w for w in answer.json()["warnings"])
        done = wait_status(orchestrator, "/v1/routers/r1", "ACTIVE", min_version=2)
        assert "restarted" in done["status_detail"]
        glob = _global(gobgpd)
        assert (glob.asn, glob.router_id) == (4200000001, "198.18.0.9")
        wait_for(lambda: len(_peers(gobgpd)) == 1, timeout=10, what="peer re-added")
