"""The floors the benchmarks measure sdwan against: direct gRPC to gobgpd, no store.

  pipelined   the fastest direct client: every router at once, each with WINDOW
              AddPeer calls in flight (gRPC futures from one thread; gobgpd applies a
              router's calls in order), which is what sdwan itself does per router
  sequential  one call at a time, routers one after another: the simplest client, a
              second reference (sdwan pipelines, so it is not the lower bound)

Both start BGP first (StartBgp) and leave every router with every peer; each returns
the seconds it took.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sdwan.gobgp._pb import gobgp_pb2 as pb

WINDOW = 32  # AddPeer calls in flight per router (sdwan.gobgp.client.PIPELINE)
TIMEOUT = 60.0
# (stubs, one StartBgp per stub, the AddPeers every stub gets) -> seconds
Way = Callable[[Sequence[Any], Sequence[pb.StartBgpRequest], Sequence[pb.AddPeerRequest]], float]


def add_peer_request(address: str, peer_asn: int, *, passive: bool = False) -> pb.AddPeerRequest:
    conf = pb.PeerConf(neighbor_address=address, peer_asn=peer_asn)
    transport = pb.Transport(passive_mode=passive)
    return pb.AddPeerRequest(peer=pb.Peer(conf=conf, transport=transport))


def start_request(asn: int, router_id: str) -> pb.StartBgpRequest:
    config = pb.Global(asn=asn, router_id=router_id, listen_port=-1)
    return pb.StartBgpRequest(**{"global": config})


def sequential(
    stubs: Sequence[Any], starts: Sequence[pb.StartBgpRequest], peers: Sequence[pb.AddPeerRequest]
) -> float:
    """Router after router: StartBgp, then one AddPeer after another."""
    begin = time.perf_counter()
    for stub, start in zip(stubs, starts, strict=True):
        stub.StartBgp(start, timeout=TIMEOUT)
        for request in peers:
            stub.AddPeer(request, timeout=TIMEOUT)
    return time.perf_counter() - begin


def pipelined(
    stubs: Sequence[Any],
    starts: Sequence[pb.StartBgpRequest],
    peers: Sequence[pb.AddPeerRequest],
    window: int = WINDOW,
) -> float:
    """Every router at once: all StartBgp in flight, then ``window`` AddPeer in flight
    per router, refilled as the oldest of each router completes."""
    begin = time.perf_counter()
    starting = [s.StartBgp.future(r, timeout=TIMEOUT) for s, r in zip(stubs, starts, strict=True)]
    for started in starting:
        started.result()
    waiting = [deque(peers) for _ in stubs]
    in_flight: list[deque[Any]] = [deque() for _ in stubs]
    while any(waiting) or any(in_flight):
        for stub, todo, flying in zip(stubs, waiting, in_flight, strict=True):
            while todo and len(flying) < window:
                flying.append(stub.AddPeer.future(todo.popleft(), timeout=TIMEOUT))
        for flying in in_flight:
            if flying:
                flying.popleft().result()
    return time.perf_counter() - begin
