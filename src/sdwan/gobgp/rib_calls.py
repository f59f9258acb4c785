"""The reads of GobgpClient the intent planner and verifier need, in domain values:
each peer's session (with the BGP identifier and our address on it), a neighbor's
adj-RIB-in (as received, before policy) and the global RIB (the paths this gobgpd
originates and its best paths). Lookups are by prefix (with every longer prefix inside
it) when the caller knows the prefixes, so a full table is never read for a few.
Each read takes ``timeout`` seconds at most when given (a plan's remaining time),
else the client's own (a listing stream: at least 30 s). Reads only: nothing here may
change gobgpd (tests/unit/test_dry_speaker.py counts these methods as reads)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sdwan.domain.intent_predict import Peer, Received
from sdwan.domain.route import AsPathSegment, PathAttrs
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.convert import family_to_proto
from sdwan.gobgp.paths import Route, decode_path

T = TypeVar("T")
MAX_DESTINATIONS = 10_000  # per read: a plan of "every route" stops there


class _Calls(Protocol):
    timeout: float
    _stub: Any

    def _call(self, what: str, fn: Callable[[], T]) -> T: ...


@dataclass(frozen=True)
class GlobalPath:
    neighbor: str | None  # None: originated by this gobgpd
    attrs: PathAttrs
    best: bool


def attrs_of(route: Route) -> PathAttrs:
    return PathAttrs(
        route.prefix,
        next_hop=route.next_hop,
        as_path=tuple(AsPathSegment(s.type, s.asns) for s in route.as_path),
        origin=route.origin or "igp",
        med=route.med,
        local_pref=route.local_pref,
        communities=route.communities,
        large_communities=route.large_communities,
    )


def _lookups(prefixes: Sequence[str] | None) -> list[pb.TableLookupPrefix]:
    if not prefixes:
        return []
    return [pb.TableLookupPrefix(prefix=p, type=pb.TableLookupPrefix.LONGER) for p in prefixes]


class RibCalls:
    def peer_sessions(self: _Calls, *, timeout: float | None = None) -> list[Peer]:
        seconds = self.timeout if timeout is None else timeout
        replies = self._call(
            "ListPeer",
            lambda: [r.peer for r in self._stub.ListPeer(pb.ListPeerRequest(), timeout=seconds)],
        )
        return [
            Peer(
                address=p.state.neighbor_address or p.conf.neighbor_address,
                peer_asn=p.state.peer_asn or p.conf.peer_asn,
                remote_router_id=p.state.router_id or None,
                local_address=p.transport.local_address or None,
                established=p.state.session_state == pb.PeerState.ESTABLISHED,
            )
            for p in replies
        ]

    def _paths(
        self: _Calls,
        table: pb.TableType,
        name: str,
        family: str,
        prefixes: Sequence[str] | None,
        timeout: float | None,
    ) -> list[tuple[str, pb.Path]]:
        request = pb.ListPathRequest(
            table_type=table, name=name, family=family_to_proto(family), prefixes=_lookups(prefixes)
        )
        what = f"ListPath {pb.TableType.Name(table)} {name}".rstrip()

        def read() -> list[tuple[str, pb.Path]]:
            out: list[tuple[str, pb.Path]] = []
            seconds = max(self.timeout, 30) if timeout is None else timeout
            stream = self._stub.ListPath(request, timeout=seconds)
            try:
                for count, reply in enumerate(stream):
                    if count >= MAX_DESTINATIONS:
                        break
                    out.extend((reply.destination.prefix, p) for p in reply.destination.paths)
            finally:
                stream.cancel()
            return out

        return self._call(what, read)

    def adj_in(
        self: _Calls,
        neighbor: str,
        family: str,
        prefixes: Sequence[str] | None,
        *,
        timeout: float | None = None,
    ) -> dict[str, list[Received]]:
        """What ``neighbor`` sent, before the import policy (``filtered`` paths too)."""
        found: dict[str, list[Received]] = {}
        paths = RibCalls._paths(self, pb.ADJ_IN, neighbor, family, prefixes, timeout)
        for prefix, path in paths:
            route = decode_path(path, prefix=prefix)
            stamp = route.received_at.timestamp() if route.received_at else None
            found.setdefault(route.prefix, []).append(Received(neighbor, attrs_of(route), stamp))
        return found

    def global_paths(
        self: _Calls,
        family: str,
        prefixes: Sequence[str] | None,
        *,
        timeout: float | None = None,
    ) -> dict[str, list[GlobalPath]]:
        found: dict[str, list[GlobalPath]] = {}
        for prefix, path in RibCalls._paths(self, pb.GLOBAL, "", family, prefixes, timeout):
            route = decode_path(path, prefix=prefix)
            found.setdefault(route.prefix, []).append(
                GlobalPath(route.neighbor, attrs_of(route), route.best)
            )
        return found
