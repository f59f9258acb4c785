"""The next hops a FIB route may use, in gobgpd's own order of preference (pure).

For one prefix, gobgpd holds several paths (one per neighbor that sent it). The
kernel route uses the first *tier* that is not avoided:

1. gobgpd's best path; with multipath, with every path equal to it in gobgpd's
   ``Path.Compare`` (its multipath set);
2. the best of the other paths by gobgpd's decision process
   (:func:`sdwan.domain.bestpath.decide`), with its equal ones under multipath;
3. and so on, until no path is left.

Only paths learned from a neighbor count (a locally originated best path is not a
kernel route of ours), and paths an import policy rejected are not candidates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sdwan.domain.bestpath import Candidate, decide, multipath_equal
from sdwan.gobgp.paths import Route
from sdwan.gobgp.rib_calls import attrs_of

__all__ = ["LearnedPath", "multipath_hops", "next_hop_tiers"]


@dataclass(frozen=True)
class LearnedPath:
    route: Route
    peer_router_id: str | None = None
    next_hop_invalid: bool = False


def _candidate(index: int, path: LearnedPath, local_asn: int) -> Candidate:
    route = path.route
    received = route.received_at.timestamp() if route.received_at else None
    return Candidate(
        f"{route.neighbor}#{index}",
        attrs_of(route),
        route.neighbor,
        route.source_asn == local_asn,
        peer_router_id=path.peer_router_id,
        received_at=received,
        next_hop_invalid=path.next_hop_invalid,
    )


def next_hop_tiers(
    paths: Sequence[LearnedPath], local_asn: int, *, multipath: bool
) -> list[list[str]]:
    """The BGP next hops of each tier, best tier first (sorted within a tier; a next
    hop appears once, in its best tier). Empty when gobgpd has no learned best path."""
    learned = [
        (p.route, _candidate(i, p, local_asn))
        for i, p in enumerate(paths)
        if p.route.neighbor is not None and p.route.next_hop and not p.route.filtered
    ]
    best = [c for r, c in learned if r.best]
    if not best:
        return []
    hop_of = {c.key: str(r.next_hop) for r, c in learned}
    tiers: list[list[str]] = []
    used: set[str] = set()
    leader: Candidate | None = best[0]
    remaining = [c for _r, c in learned]
    while leader is not None:
        first = leader
        members = [c for c in remaining if c is first or (multipath and multipath_equal(first, c))]
        tier = sorted({hop_of[c.key] for c in members} - used)
        if tier:
            tiers.append(tier)
            used.update(tier)
        remaining = [c for c in remaining if hop_of[c.key] not in used and c not in members]
        leader = decide(remaining).best if remaining else None
    return tiers


def multipath_hops(routes: list[Route], local_asn: int) -> list[str]:
    """The next hops of gobgpd's best path and of every path equal to it in gobgpd's
    ``Path.Compare`` (its multipath set)."""
    tiers = next_hop_tiers([LearnedPath(r) for r in routes], local_asn, multipath=True)
    return tiers[0] if tiers else []
