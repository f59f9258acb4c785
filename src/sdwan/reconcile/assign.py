"""Which replica should drive which router: rendezvous hashing with bounded loads.

Every replica computes the same answer from the same inputs (the router ids and the
names of the live replicas, both read from the database), so they agree without
talking to each other. Each router ranks the replicas by a hash of (router, replica)
(rendezvous, or highest-random-weight, hashing: a replica joining or leaving moves
only the routers that rank it first, plus the few that must move to keep the
spread even) and goes to the best-ranked replica that still has room. Room is the
fair share rounded down, plus one for as many replicas as the remainder allows:
every replica ends up with floor(N/R) or ceil(N/R) routers, which is as even as
whole routers can be (within 20 % of the fair share from five routers a replica).
Pure: no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def score(router_id: str, replica: str) -> int:
    digest = hashlib.blake2b(f"{router_id}\x00{replica}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assign(router_ids: Iterable[str], replicas: Iterable[str]) -> dict[str, str]:
    """router id -> replica name; empty when there is no replica."""
    names = sorted(set(replicas))
    routers = sorted(set(router_ids), key=lambda r: (score(r, ""), r))
    if not names:
        return {}
    base, extra = divmod(len(routers), len(names))
    load = dict.fromkeys(names, 0)
    result: dict[str, str] = {}
    for router in routers:
        ranked = sorted(names, key=lambda name: (score(router, name), name), reverse=True)
        for name in ranked:
            if load[name] < base or (load[name] == base and extra > 0):
                if load[name] == base:
                    extra -= 1
                load[name] += 1
                result[router] = name
                break
    return result
