"""`sdwan apply` / `sdwan export` against real gobgpd: a dry run changes nothing,
apply converges, export -> apply is a no-op, --prune deletes what the file drops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.policy_lab import FAR, PolicyLab


def _fleet(plab: PolicyLab) -> dict[str, Any]:
    return {
        "routers": [
            {
                "name": "e1",
                "router_id": "198.18.0.11",
                "asn": 65000,
                "api_address": plab.daemons["e1"].api_address,
                "neighbors": [
                    {
                        "address": "198.18.1.2",
                        "peer_asn": 65001,
                        "hold_time": 9,
                        "keepalive_interval": 3,
                    }
                ],
                "announcements": [
                    {"prefix": FAR, "communities": ["65000:7"], "med": 5},
                    {"prefix": "198.51.100.0/24"},
                ],
            },
            {
                "name": "r1",
                "router_id": "198.18.0.1",
                "asn": 65001,
                "api_address": plab.daemons["r1"].api_address,
                "neighbors": [
                    {
                        "address": "198.18.1.1",
                        "peer_asn": 65000,
                        "hold_time": 9,
                        "keepalive_interval": 3,
                    }
                ],
                "defined_sets": [{"name": "far", "type": "prefix", "members": [FAR]}],
                "policies": [
                    {
                        "name": "mark",
                        "statements": [
                            {"conditions": {"prefix_set": "far"}, "actions": {"local_pref": 300}}
                        ],
                    }
                ],
                "attachments": [{"name": "in", "direction": "import", "policies": ["mark"]}],
            },
        ]
    }


def _write(path: Path, document: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(document))
    return str(path)


def test_plan_apply_export_roundtrip(
    lab: Lab, gobgpd_factory: GobgpdFactory, orchestrator: OrchestratorProcess, tmp_path: Path
) -> None:
    spaces = {n: lab.namespace(n) for n in ("e1", "r1")}
    lab.link(
        spaces["e1"],
        "e1r1",
        spaces["r1"],
        "r1e1",
        addrs_a=["198.18.1.1/30"],
        addrs_b=["198.18.1.2/30"],
    )
    plab = PolicyLab(orchestrator, {n: gobgpd_factory(n, netns=spaces[n]) for n in spaces})
    fleet_file = _write(tmp_path / "fleet.yaml", _fleet(plab))

    dry = orchestrator.cli("apply", "-f", fleet_file, "--dry-run")
    assert "+ router e1" in dry.stdout and "+ announcement e1/203.0.113.0/24" in dry.stdout
    assert "Dry run: nothing was changed" in dry.stdout
    with orchestrator.client() as api:
        assert api.get("/v1/routers").json()["total"] == 0
    for daemon in plab.daemons.values():
        assert getattr(daemon.grpc_stub().GetBgp(pb.GetBgpRequest(), timeout=5), "global").asn == 0

    applied = orchestrator.cli("apply", "-f", fleet_file)
    assert "Applied as revision 1." in applied.stdout
    wait_for(lambda: plab.established("r1"), timeout=60, what="r1 session ESTABLISHED")
    wait_for(
        lambda: [r.local_pref for r in plab.routes("r1")] == [300],
        timeout=40,
        what="far network at r1 with the import policy's local-pref",
    )
    route = plab.routes("r1")[0]
    assert route.med == 5 and "65000:7" in route.communities

    exported = orchestrator.cli("export").stdout
    again = _write(tmp_path / "exported.yaml", yaml.safe_load(exported))
    assert "No changes" in orchestrator.cli("apply", "-f", again, "--dry-run").stdout
    result = json.loads(orchestrator.cli("apply", "-f", fleet_file, "-o", "json").stdout)
    assert result["changes"] == [] and result["applied"] is False

    changed = _fleet(plab)
    changed["routers"][0]["announcements"] = changed["routers"][0]["announcements"][:1]
    changed["routers"][1]["neighbors"][0]["peer_asn"] = 65000  # unchanged value
    changed["routers"][1]["neighbors"][0]["hold_time"] = 30
    changed["routers"][1]["neighbors"][0]["keepalive_interval"] = 10
    changed_file = _write(tmp_path / "changed.yaml", changed)
    plan = orchestrator.cli("apply", "-f", changed_file, "--prune", "--dry-run").stdout
    assert "- announcement e1/198.51.100.0/24" in plan
    assert "hold_time: 9 -> 30" in plan
    assert "resets" not in plan  # timers change in place
    plab_prefix = "198.51.100.0/24"
    assert plab.next_hops("r1", plab_prefix) == {"198.18.1.1"}
    orchestrator.cli("apply", "-f", changed_file, "--prune")
    wait_for(
        lambda: plab.next_hops("r1", plab_prefix) == set(),
        timeout=40,
        what="pruned announcement withdrawn",
    )


def test_invalid_file_changes_nothing(orchestrator: OrchestratorProcess, tmp_path: Path) -> None:
    bad = {
        "routers": [
            {
                "name": "a",
                "router_id": "198.18.0.1",
                "asn": 65001,
                "api_address": "unix:///run/sdwan/nonexistent-a.sock",  # allowed, never started
                "attachments": [{"name": "x", "direction": "export", "policies": ["missing"]}],
            },
        ]
    }
    answer = orchestrator.cli("apply", "-f", _write(tmp_path / "bad.yaml", bad), check=False)
    assert answer.returncode == 1
    assert "routers[0].attachments[0].policies[0]" in answer.stderr
    duplicate = tmp_path / "dup.yaml"
    duplicate.write_text("routers:\n  - name: a\n    name: b\n")
    answer = orchestrator.cli("apply", "-f", str(duplicate), check=False)
    assert answer.returncode == 1 and "appears twice" in answer.stderr
    with orchestrator.client() as api:
        assert api.get("/v1/routers").json()["total"] == 0
