"""Updates on an Established session: what must not reset it, and what must.
Two gobgpd peer across a veth between two namespaces; the orchestrator manages both."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.waits import wait_status

ESTABLISHED = pb.PeerState.ESTABLISHED


@dataclass
class Pair:
    a: GobgpdProcess
    b: GobgpdProcess
    neighbor_of_a: dict[str, Any]  # A's neighbor B, as the API shows it


def _peer(gobgpd: GobgpdProcess, address: str) -> pb.Peer:
    request = pb.ListPeerRequest(address=address)
    replies: list[pb.ListPeerResponse] = list(gobgpd.grpc_stub().ListPeer(request, timeout=5))
    assert len(replies) == 1, f"{gobgpd.name} has no peer {address}"
    return replies[0].peer


def _established(gobgpd: GobgpdProcess, address: str) -> bool:
    return _state(gobgpd, address) == ESTABLISHED


def _state(gobgpd: GobgpdProcess, address: str) -> int | None:
    """The session state, or None while gobgpd has no such peer yet."""
    replies = list(gobgpd.grpc_stub().ListPeer(pb.ListPeerRequest(address=address), timeout=5))
    return replies[0].peer.state.session_state if replies else None


def _uptime(gobgpd: GobgpdProcess, address: str) -> int:
    return _peer(gobgpd, address).timers.state.uptime.seconds


@pytest.fixture
def pair(lab: Lab, gobgpd_factory: GobgpdFactory, orchestrator: OrchestratorProcess) -> Pair:
    ns_a, ns_b = lab.namespace("a"), lab.namespace("b")
    lab.link(ns_a, "a0", ns_b, "b0", addrs_a=["198.18.100.1/30"], addrs_b=["198.18.100.2/30"])
    a, b = gobgpd_factory("a", netns=ns_a), gobgpd_factory("b", netns=ns_b)
    with orchestrator.client() as api:
        routers = [
            {"name": "A", "router_id": "198.18.100.1", "asn": 65001, "api_address": a.api_address},
            {"name": "B", "router_id": "198.18.100.2", "asn": 65002, "api_address": b.api_address},
        ]
        assert api.post("/v1/routers/bulk", json={"items": routers}).status_code == 201
        neighbors = [
            {
                "router": "A",
                "address": "198.18.100.2",
                "peer_asn": 65002,
                "hold_time": 9,
                "keepalive_interval": 3,
            },
            {
                "router": "B",
                "address": "198.18.100.1",
                "peer_asn": 65001,
                "hold_time": 9,
                "keepalive_interval": 3,
            },
        ]
        created = api.post("/v1/neighbors/bulk", json={"items": neighbors})
        assert created.status_code == 201, created.text
    for daemon, address in ((a, "198.18.100.2"), (b, "198.18.100.1")):
        wait_for(
            partial(_established, daemon, address),
            timeout=40,
            what=f"{daemon.name} session with {address} ESTABLISHED",
        )
    return Pair(a, b, created.json()["items"][0])


def test_description_and_timers_do_not_reset_the_session(
    pair: Pair, orchestrator: OrchestratorProcess
) -> None:
    path = f"/v1/neighbors/{pair.neighbor_of_a['id']}"
    before_a = _uptime(pair.a, "198.18.100.2")
    before_b = _uptime(pair.b, "198.18.100.1")
    with orchestrator.client() as api:
        answer = api.patch(
            path, json={"description": "primary uplink", "hold_time": 30, "keepalive_interval": 10}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["warnings"] == []
    done = wait_status(orchestrator, path, "ACTIVE", min_version=2)
    assert done["status_detail"] == ""  # nothing was reset
    peer = _peer(pair.a, "198.18.100.2")
    assert (peer.timers.config.hold_time, peer.timers.config.keepalive_interval) == (30, 10)
    assert peer.conf.description == ""  # the description stays in the orchestrator
    assert peer.state.session_state == ESTABLISHED
    # same session on both ends: Established since the same moment, no flap
    assert _uptime(pair.a, "198.18.100.2") == before_a
    assert _uptime(pair.b, "198.18.100.1") == before_b
    assert _peer(pair.b, "198.18.100.1").state.session_state == ESTABLISHED


def test_disabling_a_neighbor_takes_the_session_down_and_back(
    pair: Pair, orchestrator: OrchestratorProcess
) -> None:
    path = f"/v1/neighbors/{pair.neighbor_of_a['id']}"
    with orchestrator.client() as api:
        answer = api.patch(path, json={"enabled": False})
        assert any("resets the BGP session" in w for w in answer.json()["warnings"])
        wait_for(
            lambda: _peer(pair.a, "198.18.100.2").state.admin_state == pb.PeerState.DOWN,
            timeout=10,
            what="admin down on gobgpd",
        )
        assert _peer(pair.a, "198.18.100.2").state.session_state != ESTABLISHED
        done = wait_status(orchestrator, path, "ACTIVE", min_version=2)
        assert "enabled" in done["status_detail"]
        api.patch(path, json={"enabled": True})
    wait_for(
        lambda: _peer(pair.a, "198.18.100.2").state.session_state == ESTABLISHED,
        timeout=40,
        what="session back up",
    )


def test_peer_asn_change_is_applied_and_reported(
    pair: Pair, orchestrator: OrchestratorProcess
) -> None:
    path = f"/v1/neighbors/{pair.neighbor_of_a['id']}"
    with orchestrator.client() as api:
        answer = api.patch(path, json={"peer_asn": 65099})
        assert any("peer_asn" in w for w in answer.json()["warnings"])
    done = wait_status(orchestrator, path, "ACTIVE", min_version=2)
    assert "session reset" in done["status_detail"]
    assert _peer(pair.a, "198.18.100.2").conf.peer_asn == 65099


def test_orchestrator_restart_resets_no_session(
    pair: Pair, orchestrator: OrchestratorProcess
) -> None:
    before = (_uptime(pair.a, "198.18.100.2"), _uptime(pair.b, "198.18.100.1"))
    orchestrator.stop()
    orchestrator.start()
    with orchestrator.client() as api:
        # the restarted reconciler has read both gobgpd back: routers are ACTIVE again
        for name in ("A", "B"):
            wait_status(orchestrator, f"/v1/routers/{name}", "ACTIVE")
            api.patch(f"/v1/routers/{name}", json={"description": "after restart"})
            wait_status(orchestrator, f"/v1/routers/{name}", "ACTIVE", min_version=2)
    after = (_uptime(pair.a, "198.18.100.2"), _uptime(pair.b, "198.18.100.1"))
    assert after == before
    assert _peer(pair.a, "198.18.100.2").state.session_state == ESTABLISHED


def test_the_same_password_again_is_a_change_that_resets_nothing(
    pair: Pair, orchestrator: OrchestratorProcess
) -> None:
    """The API never compares a password (the answer would tell a right guess from a
    wrong one): writing the one a neighbor has is a new version with the warning any
    password gets. The reconciler then finds gobgpd holding that password already and
    leaves the session alone."""
    with orchestrator.client() as api:
        b_side = api.get("/v1/neighbors", params={"router": "B"}).json()["items"][0]
        paths = [f"/v1/neighbors/{pair.neighbor_of_a['id']}", f"/v1/neighbors/{b_side['id']}"]
        for path in paths:
            assert api.patch(path, json={"password": "md5-s3cret"}).status_code == 200
        for path in paths:
            wait_status(orchestrator, path, "ACTIVE", min_version=2)
        wait_for(
            partial(_established, pair.a, "198.18.100.2"),
            timeout=40,
            what="the session up with the password",
        )
        assert _peer(pair.a, "198.18.100.2").conf.auth_password == "md5-s3cret"
        before = (_uptime(pair.a, "198.18.100.2"), _uptime(pair.b, "198.18.100.1"))
        answer = api.patch(paths[0], json={"password": "md5-s3cret"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["version"] == 3
        assert any("unless gobgpd has that password" in w for w in answer.json()["warnings"])
        wait_status(orchestrator, paths[0], "ACTIVE", min_version=3)
    assert (_uptime(pair.a, "198.18.100.2"), _uptime(pair.b, "198.18.100.1")) == before
    assert _peer(pair.a, "198.18.100.2").state.session_state == ESTABLISHED
