"""A change and its rollback on real gobgpd (issue 24, item 1): after `sdwan rollback`
every gobgpd is configured exactly as before the change (peers, defined sets,
policies, assignments, the routes in its RIB), and a session the change did not touch
stayed up throughout.

e1 (AS65000) --- r1 (AS65001) --- i1, i2 (AS65001); e1 announces the far network,
r1 marks it with local-pref 200 on import."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

from google.protobuf.json_format import MessageToDict

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.paths import Table, decode_destination, list_path_request
from sdwan.lab import GobgpdFactory, GobgpdProcess, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.backends import BOTH_BACKENDS
from tests.support.policy_lab import FAR, PolicyLab, build

pytestmark = BOTH_BACKENDS
OTHER = "198.51.100.0/24"
E1, I1, I2 = "198.18.1.1", "198.18.2.2", "198.18.3.2"  # r1's neighbors


def _configured(daemon: GobgpdProcess) -> dict[str, Any]:
    """What a gobgpd is configured with and what its RIB holds (no session state, no
    times): the state a rollback must give back."""
    stub = daemon.grpc_stub()
    peers = {}
    for reply in stub.ListPeer(pb.ListPeerRequest(), timeout=5):
        peer = reply.peer
        timers = MessageToDict(peer.timers.config)
        # gobgpd 3.10 shows 30 after AddPeer and 0 after any UpdatePeer, whatever it was
        # sent: a value the orchestrator never sets, so a timer change and its undo differ
        timers.pop("idleHoldTimeAfterReset", None)
        peers[peer.conf.neighbor_address] = {
            "conf": MessageToDict(peer.conf),
            "timers": timers,
            "families": sorted(str(MessageToDict(a.config)) for a in peer.afi_safis),
        }
    sets = {}
    for kind in (pb.DefinedType.PREFIX, pb.DefinedType.NEIGHBOR):
        for reply in stub.ListDefinedSet(pb.ListDefinedSetRequest(defined_type=kind), timeout=5):
            sets[reply.defined_set.name] = MessageToDict(reply.defined_set)
    policies = {
        r.policy.name: MessageToDict(r.policy)
        for r in stub.ListPolicy(pb.ListPolicyRequest(), timeout=5)
    }
    assignments = [
        MessageToDict(r.assignment)
        for direction in (pb.IMPORT, pb.EXPORT)
        for r in stub.ListPolicyAssignment(
            pb.ListPolicyAssignmentRequest(name="global", direction=direction), timeout=5
        )
    ]
    request = list_path_request(Table.GLOBAL, "ipv4-unicast")
    routes = sorted(
        (
            dataclasses.replace(route, received_at=None, age=None)
            for reply in stub.ListPath(request, timeout=5)
            for route in decode_destination(reply.destination)
        ),
        key=repr,
    )
    return {
        "peers": peers,
        "sets": sets,
        "policies": policies,
        "assignments": assignments,
        "routes": routes,
    }


def _session(daemon: GobgpdProcess, address: str) -> tuple[int, int, int]:
    """(state, the moment it came up, flops): the same session while all three hold."""
    (reply,) = list(daemon.grpc_stub().ListPeer(pb.ListPeerRequest(address=address), timeout=5))
    peer = reply.peer
    return peer.state.session_state, peer.timers.state.uptime.seconds, peer.state.flops


def _settles(daemon: GobgpdProcess, expected: dict[str, Any]) -> None:
    """``daemon`` configured as ``expected`` within a minute (else the difference)."""
    try:
        wait_for(
            lambda: _configured(daemon) == expected,
            timeout=60,
            what=f"{daemon.name} configured as before the change",
        )
    except TimeoutError:
        assert _configured(daemon) == expected


def _local_prefs(plab: PolicyLab, router: str) -> list[int | None]:
    return [r.local_pref for r in plab.routes(router)]


def test_a_change_rolled_back_leaves_gobgpd_as_before(
    lab: Lab, gobgpd_factory: GobgpdFactory, orchestrator: OrchestratorProcess
) -> None:
    plab = build(lab, gobgpd_factory, orchestrator, names=("e1", "r1", "i1", "i2"))
    with plab.api() as api:
        assert api.post("/v1/announcements", json={"router": "e1", "prefix": FAR}).is_success
        for path, body in (
            ("/v1/defined-sets", {"name": "far", "type": "prefix", "members": [FAR]}),
            (
                "/v1/policies",
                {
                    "name": "mark",
                    "statements": [
                        {"conditions": {"prefix_set": "far"}, "actions": {"local_pref": 200}}
                    ],
                },
            ),
            ("/v1/policy-attachments", {"name": "in", "direction": "import", "policies": ["mark"]}),
        ):
            answer = api.post(path, json={**body, "router": "r1"})
            assert answer.status_code == 201, answer.text
        wait_for(lambda: _local_prefs(plab, "i1") == [200], timeout=40, what="far at i1, pref 200")
        wait_for(partial(plab.established, "r1"), timeout=60, what="r1's sessions up")
        base = api.get("/v1/revisions").json()["latest"]
        before = {name: _configured(plab.daemons[name]) for name in ("r1", "i1", "i2")}
        untouched = _session(plab.daemons["r1"], E1)

        # the change: a policy, a new announcement, a neighbor's timers, a neighbor gone
        policy = api.get("/v1/policies", params={"router": "r1"}).json()["items"][0]
        statements = [{"conditions": {"prefix_set": "far"}, "actions": {"local_pref": 50}}]
        headers = {"X-Sdwan-Message": "try a lower preference"}
        for method, path, change in (
            ("PATCH", f"/v1/policies/{policy['id']}", {"statements": statements}),
            ("POST", "/v1/announcements", {"router": "r1", "prefix": OTHER}),
        ):
            answer = api.request(method, path, json=change, headers=headers)
            assert answer.is_success, answer.text
        neighbors = {
            n["address"]: n["id"]
            for n in api.get("/v1/neighbors", params={"router": "r1"}).json()["items"]
        }
        timers = {"hold_time": 30, "keepalive_interval": 10}
        assert api.patch(f"/v1/neighbors/{neighbors[I1]}", json=timers).is_success
        assert api.delete(f"/v1/neighbors/{neighbors[I2]}").status_code == 202
    wait_for(lambda: _local_prefs(plab, "i1") == [50], timeout=40, what="far at i1, pref 50")
    wait_for(lambda: plab.routes("i1", OTHER), timeout=40, what="the new prefix at i1")
    wait_for(lambda: I2 not in _configured(plab.daemons["r1"])["peers"], timeout=40, what="i2 gone")
    assert _configured(plab.daemons["r1"]) != before["r1"]

    plan = orchestrator.cli("rollback", str(base), "--dry-run").stdout
    assert f"+ neighbor r1/{I2}" in plan and f"- announcement r1/{OTHER}" in plan
    assert "local_pref" in plan
    assert "hold_time: 30 -> 9" in plan
    applied = orchestrator.cli("rollback", str(base), "-m", "back to the tested state").stdout
    assert "Applied as revision" in applied

    for name in ("r1", "i1", "i2"):
        _settles(plab.daemons[name], before[name])
    wait_for(partial(plab.established, "r1"), timeout=60, what="r1's sessions up again")
    assert _session(plab.daemons["r1"], E1) == untouched  # never reset
    with plab.api() as api:
        newest = api.get("/v1/revisions", params={"limit": 1}).json()["items"][0]
    assert newest["source"] == "rollback" and newest["rollback_of"] == base
    assert newest["message"] == "back to the tested state"
