"""Policy and announcements edited behind the orchestrator's back with the `gobgp`
CLI: repaired (and reported) by default, only reported on a report-only router."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.paths import Table, decode_destination, list_path_request
from sdwan.lab import GobgpdFactory, GobgpdProcess, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.waits import wait_status

PREFIX = "192.0.2.0/24"


@pytest.fixture
def orch(tmp_path: Path, lab_environment: object) -> Iterator[OrchestratorProcess]:
    proc = OrchestratorProcess(tmp_path / "orch", extra_env={"SDWAN_RECONCILE_INTERVAL": "1"})
    proc.start()
    yield proc
    proc.stop()


def _gobgp(daemon: GobgpdProcess, *args: str) -> None:
    subprocess.run(
        ["gobgp", "--target", daemon.api_address, *args],
        check=True,
        capture_output=True,
        timeout=30,
    )


def _export_policies(daemon: GobgpdProcess) -> list[str]:
    request = pb.ListPolicyAssignmentRequest(name="global", direction=pb.EXPORT)
    replies = daemon.grpc_stub().ListPolicyAssignment(request, timeout=5)
    return [p.name for r in replies for p in r.assignment.policies]


def _announced(daemon: GobgpdProcess) -> bool:
    request = list_path_request(Table.GLOBAL, "ipv4-unicast", prefix=PREFIX)
    return any(
        decode_destination(r.destination) for r in daemon.grpc_stub().ListPath(request, timeout=5)
    )


def _drift_events(api: httpx.Client, kind: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get(
        "/v1/events", params={"kind": kind, "limit": 1000}
    ).json()["items"]
    return items


def _setup(
    api: httpx.Client, daemon: GobgpdProcess, orch: OrchestratorProcess, drift_mode: str
) -> None:
    router = {
        "name": "R1",
        "router_id": "198.18.0.1",
        "asn": 65001,
        "listen_port": -1,
        "api_address": daemon.api_address,
        "drift_mode": drift_mode,
    }
    assert api.post("/v1/routers", json=router).status_code == 201
    api.post(
        "/v1/policies",
        json={
            "router": "R1",
            "name": "tag",
            "statements": [{"actions": {"communities": {"add": ["65001:1"]}}}],
        },
    )
    attachment = api.post(
        "/v1/policy-attachments",
        json={"router": "R1", "name": "out", "direction": "export", "policies": ["tag"]},
    ).json()
    api.post("/v1/announcements", json={"router": "R1", "prefix": PREFIX})
    wait_status(orch, f"/v1/policy-attachments/{attachment['id']}", "ACTIVE")
    wait_for(lambda: _announced(daemon), timeout=20, what="announcement on gobgpd")
    assert len(_export_policies(daemon)) == 1


def test_policy_and_announcement_drift_is_repaired(
    orch: OrchestratorProcess, gobgpd_factory: GobgpdFactory
) -> None:
    daemon = gobgpd_factory("g1")
    with orch.client() as api:
        _setup(api, daemon, orch, "repair")
        _gobgp(daemon, "global", "policy", "export", "del")
        _gobgp(daemon, "global", "rib", "del", PREFIX)
        wait_for(
            lambda: len(_export_policies(daemon)) == 1 and _announced(daemon),
            timeout=20,
            what="policy assignment and announcement restored",
        )
        events = wait_for(
            lambda: _drift_events(api, "drift.repaired"), timeout=10, what="drift.repaired event"
        )
        text = " ".join(e["message"] for e in events)
        assert "policy" in text or "announcement" in text


def test_report_only_router_reports_policy_drift(
    orch: OrchestratorProcess, gobgpd_factory: GobgpdFactory
) -> None:
    daemon = gobgpd_factory("g1")
    with orch.client() as api:
        _setup(api, daemon, orch, "report")
        _gobgp(daemon, "global", "policy", "export", "del")
        router = wait_for(
            lambda: (
                (r := api.get("/v1/routers/R1").json())["status_detail"].startswith(
                    "drift (report-only)"
                )
                and r
            ),
            timeout=20,
            what="drift reported on the router",
        )
        assert "policy" in router["status_detail"]
        assert _drift_events(api, "drift.detected")
        assert _export_policies(daemon) == []  # reported, not repaired


def test_assignment_made_by_hand_on_a_router_without_policy_is_removed(
    orch: OrchestratorProcess, gobgpd_factory: GobgpdFactory
) -> None:
    """A router that declares no policy has its full pass look at the two global
    assignments only; one made behind its back still sends it through the policy stage."""
    daemon = gobgpd_factory("g1")
    with orch.client() as api:
        router = {
            "name": "R1",
            "router_id": "198.18.0.1",
            "asn": 65001,
            "listen_port": -1,
            "api_address": daemon.api_address,
        }
        created = api.post("/v1/routers", json=router).json()
        wait_status(orch, f"/v1/routers/{created['id']}", "ACTIVE")
        _gobgp(daemon, "policy", "statement", "add", "by-hand")
        _gobgp(daemon, "policy", "add", "by-hand", "by-hand")
        _gobgp(daemon, "global", "policy", "export", "add", "by-hand")
        # (the add succeeded, check=True; a pass may already have removed it again)
        wait_for(lambda: _export_policies(daemon) == [], timeout=20, what="assignment removed")
        events = wait_for(
            lambda: _drift_events(api, "drift.repaired"), timeout=10, what="drift.repaired event"
        )
        assert "policy" in " ".join(e["message"] for e in events)
