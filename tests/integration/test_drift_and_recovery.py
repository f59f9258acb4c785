"""Drift made with the `gobgp` CLI (a human editing a router by hand) is reported and
repaired, or only reported; a gobgpd restarted empty is healed; a kill -9 of the
orchestrator in the middle of a bulk apply loses nothing the API acknowledged."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.backends import BOTH_BACKENDS
from tests.support.waits import wait_status

pytestmark = BOTH_BACKENDS


def _gobgp(daemon: GobgpdProcess, *args: str) -> None:
    """The `gobgp` CLI, as a human would use it behind the orchestrator's back."""
    subprocess.run(
        ["gobgp", "--target", daemon.api_address, *args],
        check=True,
        capture_output=True,
        timeout=30,
    )


def _peers(daemon: GobgpdProcess) -> dict[str, pb.Peer]:
    replies = daemon.grpc_stub().ListPeer(pb.ListPeerRequest(), timeout=10)
    return {r.peer.conf.neighbor_address: r.peer for r in replies}


def _events(api: httpx.Client, kind: str) -> list[dict[str, Any]]:
    answer = api.get("/v1/events", params={"kind": kind, "limit": 1000})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


@pytest.fixture
def orch(
    tmp_path: Path, lab_environment: object, backend: str | None
) -> Iterator[OrchestratorProcess]:
    proc = OrchestratorProcess(
        tmp_path / "orchestrator",
        extra_env={"SDWAN_RECONCILE_INTERVAL": "1"},
        database_url=backend,
    )
    proc.start()
    yield proc
    proc.stop()
    assert "Traceback" not in proc.log_path.read_text(errors="replace"), proc.log_tail(60)


def _router(api: httpx.Client, daemon: GobgpdProcess, n: int, **extra: object) -> list[str]:
    """Router R1 on ``daemon`` with ``n`` neighbors (peers that never come up)."""
    body = {
        "name": "R1",
        "router_id": "198.18.200.1",
        "asn": 65001,
        "api_address": daemon.api_address,
        "listen_port": -1,
        **extra,
    }
    assert api.post("/v1/routers", json=body).status_code == 201
    addresses = [f"198.18.{201 + i // 250}.{i % 250 + 1}" for i in range(n)]
    items = [{"router": "R1", "address": a, "peer_asn": 65002, "passive": True} for a in addresses]
    created = api.post("/v1/neighbors/bulk", json={"items": items})
    assert created.status_code == 201, created.text
    return addresses


def test_drift_is_reported_and_repaired(
    gobgpd_factory: GobgpdFactory, orch: OrchestratorProcess
) -> None:
    daemon = gobgpd_factory("d1")
    with orch.client() as api:
        addresses = _router(api, daemon, 3)
        wait_for(lambda: set(_peers(daemon)) == set(addresses), timeout=15, what="peers added")

        _gobgp(daemon, "neighbor", "add", "198.18.250.9", "as", "65009")  # not declared
        _gobgp(daemon, "neighbor", "del", addresses[0])  # declared, deleted by hand
        wait_for(lambda: set(_peers(daemon)) == set(addresses), timeout=15, what="drift repaired")

        def repaired() -> dict[str, str]:
            """Every difference told by drift.repaired events, whichever pass fixed it."""
            events = _events(api, "drift.repaired")
            found = {k: v for e in events for k, v in e["data"]["differences"].items()}
            return found if {"198.18.250.9", addresses[0]} <= set(found) else {}

        differences = wait_for(repaired, timeout=10, what="drift.repaired events for both")
        assert "not declared" in differences["198.18.250.9"]
        router = api.get("/v1/routers/R1").json()
        assert router["status"] == "ACTIVE"
        assert "drift repaired" in router["status_detail"]
        neighbor = api.get("/v1/neighbors", params={"address": addresses[0]}).json()["items"][0]
        assert neighbor["status_detail"].startswith("drift repaired: ")
        assert "missing on gobgpd" in neighbor["status_detail"]
        drifted = {c["type"]: c for c in neighbor["conditions"]}["Drifted"]
        assert (drifted["status"], drifted["reason"]) == ("False", "Repaired")
        assert "missing on gobgpd" in drifted["message"]
        assert {c["type"]: c["reason"] for c in router["conditions"]}["Drifted"] == "Repaired"
        metrics = api.get("/metrics").text
        assert 'sdwan_drift_repairs_total{router="R1"}' in metrics


def test_report_only_router_reports_drift_but_applies_user_changes(
    gobgpd_factory: GobgpdFactory, orch: OrchestratorProcess
) -> None:
    daemon = gobgpd_factory("d2")
    with orch.client() as api:
        addresses = _router(api, daemon, 2, drift_mode="report")
        wait_for(lambda: set(_peers(daemon)) == set(addresses), timeout=15, what="peers added")
        assert api.get("/v1/routers/R1").json()["drift_mode"] == "report"

        _gobgp(daemon, "neighbor", "add", "198.18.250.7", "as", "65007")
        detected = wait_for(
            lambda: _events(api, "drift.detected"), timeout=15, what="drift.detected event"
        )
        assert "198.18.250.7" in detected[0]["data"]["differences"]
        router = wait_for(
            lambda: (r := api.get("/v1/routers/R1").json())["drift"] and r,
            timeout=10,
            what="drift listed on the router",
        )
        assert any("198.18.250.7" in d for d in router["drift"])
        assert router["status_detail"].startswith("drift (report-only): ")
        drifted = {c["type"]: c for c in router["conditions"]}["Drifted"]
        assert (drifted["status"], drifted["reason"]) == ("True", "ReportOnly")
        assert "198.18.250.7" in drifted["message"]
        # several periodic passes later it is still there, and reported only once
        runs = 'sdwan_reconcile_runs_total{kind="full",router="R1"}'
        first = _full_runs(api, runs)
        wait_for(lambda: _full_runs(api, runs) >= first + 2, timeout=15, what="2 more passes")
        assert "198.18.250.7" in _peers(daemon)
        assert len(_events(api, "drift.detected")) == 1

        # the user's own change is still applied
        neighbor = api.get("/v1/neighbors", params={"address": addresses[1]}).json()["items"][0]
        path = f"/v1/neighbors/{neighbor['id']}"
        assert api.patch(path, json={"hold_time": 30, "keepalive_interval": 10}).status_code == 200
        wait_status(orch, path, "ACTIVE", min_version=2)
        assert _peers(daemon)[addresses[1]].timers.config.hold_time == 30
        assert "198.18.250.7" in _peers(daemon)

        # switched to repair: the stray peer goes, and the report clears
        assert api.patch("/v1/routers/R1", json={"drift_mode": "repair"}).status_code == 200
        wait_for(lambda: "198.18.250.7" not in _peers(daemon), timeout=15, what="repaired")
        wait_for(
            lambda: api.get("/v1/routers/R1").json()["drift"] == [], timeout=10, what="cleared"
        )


def _full_runs(api: httpx.Client, series: str) -> int:
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(series + " "):
            return int(float(line.split()[-1]))
    return 0


def test_restarted_gobgpd_gets_everything_back(
    gobgpd_factory: GobgpdFactory, orch: OrchestratorProcess
) -> None:
    daemon = gobgpd_factory("d3")
    with orch.client() as api:
        addresses = _router(api, daemon, 100)
        wait_for(lambda: len(_peers(daemon)) == 100, timeout=30, what="100 peers added")
        wait_status(orch, "/v1/routers/R1", "ACTIVE")
        before = api.get("/v1/routers/R1").json()
        assert before["reachable"] is True
        daemon.kill()
        daemon.start()  # empty
        wait_for(lambda: set(_peers(daemon)) == set(addresses), timeout=15, what="healed")
        assert _peers(daemon)[addresses[0]].conf.peer_asn == 65002
        after = wait_for(
            lambda: (
                (r := api.get("/v1/routers/R1").json())["gobgpd_up_since"]
                != before["gobgpd_up_since"]
                and r["reachable"]
                and r
            ),
            timeout=10,
            what="a new gobgpd instance seen",
        )
        assert after["status"] == "ACTIVE"
        # the sessions follow: every neighbor is back on gobgpd, in a real FSM state
        page = api.get("/v1/neighbors", params={"router": "R1", "limit": 1000}).json()
        wait_for(
            lambda: all(
                n["session_state"] in ("IDLE", "ACTIVE", "CONNECT")
                for n in api.get("/v1/neighbors", params={"router": "R1", "limit": 1000}).json()[
                    "items"
                ]
            ),
            timeout=15,
            what="sessions known again",
        )
        assert page["total"] == 100


def test_kill_9_during_bulk_apply_loses_nothing(
    gobgpd_factory: GobgpdFactory, orch: OrchestratorProcess
) -> None:
    daemon = gobgpd_factory("d4")
    with orch.client() as api:
        body = {
            "name": "R1",
            "router_id": "198.18.200.1",
            "asn": 65001,
            "api_address": daemon.api_address,
            "listen_port": -1,
        }
        assert api.post("/v1/routers", json=body).status_code == 201
        wait_status(orch, "/v1/routers/R1", "ACTIVE")
        addresses = [f"198.18.{210 + i // 250}.{i % 250 + 1}" for i in range(500)]
        items = [{"router": "R1", "address": a, "peer_asn": 65002} for a in addresses]
        created = api.post("/v1/neighbors/bulk", json={"items": items})
        assert created.status_code == 201  # acknowledged...
    orch.kill()  # ...and the orchestrator dies while it applies them
    applied = len(_peers(daemon))
    assert applied < 500, "the kill came too late to interrupt the bulk apply"
    orch.start()
    with orch.client() as api:
        wait_for(lambda: set(_peers(daemon)) == set(addresses), timeout=30, what="all 500")

        def all_active() -> bool:
            page = api.get("/v1/neighbors", params={"router": "R1", "status": "ACTIVE"}).json()
            return bool(page["total"] == 500)

        wait_for(all_active, timeout=30, what="all 500 ACTIVE")
