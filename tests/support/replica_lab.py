"""Helpers for the replicas' fault tests: a fleet on PostgreSQL with two gobgpd that
peer across namespaces (their sessions are what a takeover must not reset), and
gobgpd's own view of those sessions."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, Lab, wait_for
from sdwan.lab.replicas import ReplicaFleet
from tests.support.lab import declare_peering

A_ADDR, B_ADDR = "198.18.102.1", "198.18.102.2"


@dataclass
class Pair:
    a: GobgpdProcess
    b: GobgpdProcess


def fleet_fixture(
    tmp_path: Path, url: str, *, lease: float, extra_env: dict[str, str] | None = None
) -> Iterator[ReplicaFleet]:
    fleet = ReplicaFleet(
        tmp_path / "fleet",
        url,
        lease=lease,
        extra_env={"SDWAN_RECONCILE_INTERVAL": "300", **(extra_env or {})},
    )
    try:
        fleet.start()
        yield fleet
    finally:
        fleet.stop()


def peering_pair(lab: Lab, gobgpd_factory: GobgpdFactory, fleet: ReplicaFleet) -> Pair:
    """Routers A and B (eBGP across a veth), declared through the fleet, sessions up."""
    with fleet[0].client() as api:
        a, b, _ids = declare_peering(lab, gobgpd_factory, api, A_ADDR, B_ADDR)
    pair = Pair(a, b)
    wait_for(lambda: established(pair), timeout=40, what="both sessions ESTABLISHED")
    return pair


def peer(daemon: GobgpdProcess, address: str) -> pb.Peer | None:
    replies = list(daemon.grpc_stub().ListPeer(pb.ListPeerRequest(address=address), timeout=5))
    return replies[0].peer if replies else None


def peer_addresses(daemon: GobgpdProcess) -> set[str]:
    replies = daemon.grpc_stub().ListPeer(pb.ListPeerRequest(), timeout=5)
    return {r.peer.conf.neighbor_address for r in replies}


def established(pair: Pair) -> bool:
    state = pb.PeerState.SessionState.ESTABLISHED
    a, b = peer(pair.a, B_ADDR), peer(pair.b, A_ADDR)
    return (
        a is not None
        and b is not None
        and (a.state.session_state, b.state.session_state) == (state, state)
    )


def sessions(pair: Pair) -> tuple[int, int, int, int, int, int]:
    """gobgpd's own view of the A-B session: (uptime A, uptime B, state A, state B,
    flops A, flops B); the uptimes are the moments the sessions came up."""
    a, b = peer(pair.a, B_ADDR), peer(pair.b, A_ADDR)
    assert a is not None and b is not None
    return (
        a.timers.state.uptime.seconds,
        b.timers.state.uptime.seconds,
        a.state.session_state,
        b.state.session_state,
        a.state.flops,
        b.state.flops,
    )


def full_runs(api: httpx.Client, router: str) -> int:
    series = f'sdwan_reconcile_runs_total{{kind="full",router="{router}"}} '
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(series):
            return int(float(line.split()[-1]))
    return 0


def unread_requests(socket_path: Path) -> int:
    """Bytes waiting unread on the connections of a (paused) gobgpd's API socket: a
    request a client sent that gobgpd has not taken yet."""
    out = subprocess.run(
        ["ss", "-x", "-n", "-H"], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    waiting = 0
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[4] == str(socket_path):
            waiting += int(fields[2]) if re.fullmatch(r"\d+", fields[2]) else 0
    return waiting


def no_tracebacks(fleet: ReplicaFleet) -> None:
    for replica in fleet.replicas:
        log = replica.log_path.read_text(errors="replace")
        if "Traceback" in log:
            pytest.fail(f"{replica.replica_name} logged a traceback:\n{replica.log_tail(80)}")
