"""A small policy lab: routers in namespaces, all managed by the orchestrator.

e1 (AS65000) --- r1 (AS65001) --- i1 (AS65001)
e2 (AS65010) ---/        \\------- i2 (AS65001)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import httpx

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.paths import Route, Table, decode_destination, list_path_request
from sdwan.lab import GobgpdFactory, GobgpdProcess, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess

ROUTERS = {  # name: (asn, router id, links as (peer, own address, peer address))
    "e1": (65000, "198.18.0.11", [("r1", "198.18.1.1", "198.18.1.2")]),
    "e2": (65010, "198.18.0.12", [("r1", "198.18.4.1", "198.18.4.2")]),
    "r1": (
        65001,
        "198.18.0.1",
        [
            ("e1", "198.18.1.2", "198.18.1.1"),
            ("e2", "198.18.4.2", "198.18.4.1"),
            ("i1", "198.18.2.1", "198.18.2.2"),
            ("i2", "198.18.3.1", "198.18.3.2"),
        ],
    ),
    "i1": (65001, "198.18.0.21", [("r1", "198.18.2.2", "198.18.2.1")]),
    "i2": (65001, "198.18.0.22", [("r1", "198.18.3.2", "198.18.3.1")]),
}
FAR = "203.0.113.0/24"


@dataclass
class PolicyLab:
    orchestrator: OrchestratorProcess
    daemons: dict[str, GobgpdProcess] = field(default_factory=dict)

    def api(self) -> httpx.Client:
        return self.orchestrator.client()

    def routes(self, router: str, prefix: str = FAR) -> list[Route]:
        request = list_path_request(Table.GLOBAL, "ipv4-unicast", prefix=prefix)
        stub = self.daemons[router].grpc_stub()
        return [
            route
            for reply in stub.ListPath(request, timeout=5)
            for route in decode_destination(reply.destination)
        ]

    def next_hops(self, router: str, prefix: str = FAR) -> set[str | None]:
        return {r.next_hop for r in self.routes(router, prefix)}

    def best_next_hop(self, router: str, prefix: str = FAR) -> str | None:
        best = [r.next_hop for r in self.routes(router, prefix) if r.best]
        return best[0] if best else None

    def wait_next_hops(
        self, router: str, expected: set[str | None], what: str, prefix: str = FAR
    ) -> None:
        wait_for(
            lambda: self.next_hops(router, prefix) == expected,
            timeout=40,
            what=f"{router}: {what} (next hops {expected})",
        )

    def established(self, router: str) -> bool:
        stub = self.daemons[router].grpc_stub()
        peers = [r.peer for r in stub.ListPeer(pb.ListPeerRequest(), timeout=5)]
        return bool(peers) and all(p.state.session_state == pb.PeerState.ESTABLISHED for p in peers)


def build(
    lab: Lab,
    factory: GobgpdFactory,
    orchestrator: OrchestratorProcess,
    names: tuple[str, ...] = tuple(ROUTERS),
) -> PolicyLab:
    """Namespaces, veths, gobgpd and the orchestrator's routers and neighbors."""
    result = PolicyLab(orchestrator)
    spaces = {name: lab.namespace(name) for name in names}
    done: set[frozenset[str]] = set()
    for name in names:
        for peer, own, other in ROUTERS[name][2]:
            pair = frozenset((name, peer))
            if peer in names and pair not in done:
                done.add(pair)
                lab.link(
                    spaces[name],
                    f"{name}{peer}",
                    spaces[peer],
                    f"{peer}{name}",
                    addrs_a=[f"{own}/30"],
                    addrs_b=[f"{other}/30"],
                )
    for name in names:
        result.daemons[name] = factory(name, netns=spaces[name])
    routers = [
        {
            "name": n,
            "asn": ROUTERS[n][0],
            "router_id": ROUTERS[n][1],
            "api_address": result.daemons[n].api_address,
        }
        for n in names
    ]
    neighbors = [
        {
            "router": n,
            "address": other,
            "peer_asn": ROUTERS[peer][0],
            "hold_time": 9,
            "keepalive_interval": 3,
        }
        for n in names
        for peer, _own, other in ROUTERS[n][2]
        if peer in names
    ]
    with result.api() as api:
        assert api.post("/v1/routers/bulk", json={"items": routers}).status_code == 201
        answer = api.post("/v1/neighbors/bulk", json={"items": neighbors})
        assert answer.status_code == 201, answer.text
    for name in names:
        wait_for(
            partial(result.established, name),
            timeout=60,
            what=f"{name}: every session ESTABLISHED",
        )
    return result
