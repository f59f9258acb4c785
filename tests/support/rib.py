"""A stand-in for what the site's gobgpds hold (the RibSource protocol of
sdwan.service.intent_observe), for unit tests of the planner: the original demo with
both upstreams announcing the far LAN, VyOS-2's prepend gone; AS paths from text."""

from __future__ import annotations

from dataclasses import dataclass, field

from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.domain.intent_predict import Peer, Received
from sdwan.domain.route import SEQUENCE, SET, AsPathSegment, PathAttrs
from sdwan.gobgp.rib_calls import GlobalPath
from sdwan.service.intent_observe import RibSource


def as_path_from_text(text: str) -> tuple[AsPathSegment, ...]:
    """``"65000 65010 {1,2}"`` -> segments (sequences and sets)."""
    segments: list[AsPathSegment] = []
    sequence: list[int] = []
    for token in text.split():
        if token.startswith("{"):
            if sequence:
                segments.append(AsPathSegment(SEQUENCE, tuple(sequence)))
                sequence = []
            members = tuple(int(a) for a in token.strip("{}").split(",") if a)
            segments.append(AsPathSegment(SET, members))
        else:
            sequence.append(int(token))
    if sequence:
        segments.append(AsPathSegment(SEQUENCE, tuple(sequence)))
    return tuple(segments)


FAR = "203.0.113.0/24"
PEERS = {
    "GoBGP-1": [
        Peer("198.18.11.11", 65000, "198.18.0.11", "198.18.11.1"),
        Peer("198.18.31.3", 65001, "198.18.0.3", "198.18.31.1"),
    ],
    "GoBGP-2": [
        Peer("198.18.22.22", 65000, "198.18.0.12", "198.18.22.2"),
        Peer("198.18.32.3", 65001, "198.18.0.3", "198.18.32.2"),
    ],
    "GoBGP-3": [
        Peer("198.18.31.1", 65001, "198.18.0.1", "198.18.31.3"),
        Peer("198.18.32.2", 65001, "198.18.0.2", "198.18.32.3"),
        Peer("198.18.34.4", 65002, "198.18.0.4", "198.18.34.3"),
    ],
}


@dataclass
class FakeRib:
    """One router's RIBs. ``down``: upstream sessions that are not established."""

    name: str
    down: set[str] = field(default_factory=set)
    best_via: str | None = None  # GoBGP-3's best path today (its iBGP peer's address)

    def peer_sessions(self, *, timeout: float | None = None) -> list[Peer]:
        return [
            Peer(
                p.address,
                p.peer_asn,
                p.remote_router_id,
                p.local_address,
                p.address not in self.down,
            )
            for p in PEERS[self.name]
        ]

    def adj_in(
        self,
        neighbor: str,
        family: str,
        prefixes: list[str] | None,
        *,
        timeout: float | None = None,
    ) -> dict[str, list[Received]]:
        if neighbor in ("198.18.11.11", "198.18.22.22") and neighbor not in self.down:
            attrs = PathAttrs(FAR, next_hop=neighbor, as_path=as_path_from_text("65000"))
            return {FAR: [Received(neighbor, attrs, 1.0)]}
        return {}

    def global_paths(
        self, family: str, prefixes: list[str] | None, *, timeout: float | None = None
    ) -> dict[str, list[GlobalPath]]:
        upstream = {"GoBGP-1": "198.18.11.11", "GoBGP-2": "198.18.22.22"}.get(self.name)
        via = upstream if upstream not in self.down else None
        via = via or self.best_via
        if via is None:
            return {}
        return {FAR: [GlobalPath(via, PathAttrs(FAR, next_hop=via), best=True)]}

    def close(self) -> None:
        pass


def sources(down: set[str] | None = None, best_via: str = "198.18.31.1") -> object:
    """api_address -> FakeRib (the test fixtures name sockets after the routers)."""

    def source(target: GobgpEndpoint) -> RibSource:
        name = str(target).rsplit("/", 1)[-1].removesuffix(".sock")
        return FakeRib(name, set(down or ()), best_via if name == "GoBGP-3" else None)

    return source
