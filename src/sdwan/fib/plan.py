"""The kernel objects the FIB agent wants, and the smallest change to get there (pure).

Every route of the agent points at a nexthop *group* object; routes that share the
same ordered tiers of candidate hops (:mod:`sdwan.fib.candidates`, resolved to kernel
gateways) share one group, and every hop of every tier has a nexthop object of its
own. A group's members are the first tier that still has a hop that is not avoided
(:func:`in_use`): when the avoid set changes, only groups change (:func:`swaps`), one
message each, whatever the number of routes behind them.

The agent's objects are recognised by two marks together: protocol 186 (RTPROT_BGP)
and an id in :data:`ID_RANGE` (186 in the top byte). Objects of anyone else are never
changed or removed, and their ids are never taken."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field

from sdwan.fib.netlink import KernelNexthop, KernelRoute

__all__ = [
    "ID_RANGE",
    "RTPROT_BGP",
    "Hop",
    "Ids",
    "Plan",
    "Tier",
    "Tiers",
    "group_changes",
    "in_use",
    "is_ours",
    "plan_sync",
    "swaps",
]

RTPROT_BGP = 186
ID_RANGE = range(RTPROT_BGP << 24, (RTPROT_BGP + 1) << 24)


@dataclass(frozen=True, order=True)
class Hop:
    """One BGP next hop as the kernel reaches it."""

    next_hop: str  # the BGP next hop (what PUT /avoid names)
    gateway: str  # the kernel gateway: the next hop itself when connected
    oif: int  # the interface towards the gateway

    @property
    def key(self) -> tuple[str, int]:  # one nexthop object per (gateway, interface)
        return (self.gateway, self.oif)


Tier = tuple[Hop, ...]  # sorted; several hops: multipath
Tiers = tuple[Tier, ...]  # best first


def in_use(tiers: Tiers, avoided: Set[str]) -> tuple[Tier, bool]:
    """The hops a route with these ``tiers`` uses now, and whether it had to keep
    avoided ones: the first tier's hops that are not avoided, else the next tier's,
    ...; when every hop is avoided, the first tier as it is (nothing better exists)."""
    for tier in tiers:
        usable = tuple(h for h in tier if h.next_hop not in avoided and h.gateway not in avoided)
        if usable:
            return usable, False
    return tiers[0], True


def is_ours(nexthop: KernelNexthop) -> bool:
    return nexthop.protocol == RTPROT_BGP and nexthop.id in ID_RANGE


@dataclass
class Ids:
    """The agent's memory of its objects: hop key -> nexthop id, tiers -> group id."""

    nexthops: dict[tuple[str, int], int] = field(default_factory=dict)
    groups: dict[Tiers, int] = field(default_factory=dict)

    def members(self, tier: Tier) -> tuple[int, ...]:
        return tuple(sorted({self.nexthops[h.key] for h in tier}))


@dataclass
class Plan:
    ids: Ids
    nexthops: list[tuple[int, Hop]]  # to create or correct
    groups: list[tuple[int, tuple[int, ...]]]  # (id, member ids) to create or correct
    routes: list[tuple[str, int]]  # (prefix, group id) to add or re-point
    removed_routes: list[str]
    removed_objects: list[int]  # groups first, then nexthops
    group_tiers: dict[int, Tiers]
    route_groups: dict[str, int]
    kernel_groups: dict[int, tuple[int, ...]]  # the agent's groups as read: id -> members


class _IdPool:
    """Ids in :data:`ID_RANGE` that no kernel object has and the plan has not given."""

    def __init__(self, kernel_ids: Iterable[int]) -> None:
        self._taken = {i for i in kernel_ids if i in ID_RANGE}
        self._next = ID_RANGE.start + 1

    def free(self, nexthop_id: int | None) -> bool:
        return nexthop_id is not None and nexthop_id in ID_RANGE and nexthop_id not in self._taken

    def take(self, nexthop_id: int) -> int:
        self._taken.add(nexthop_id)
        return nexthop_id

    def allocate(self) -> int:
        while self._next in self._taken:
            self._next += 1
        if self._next not in ID_RANGE:
            raise RuntimeError("no nexthop id left in the agent's range")
        return self.take(self._next)


def _adopt_groups(
    desired: Mapping[str, Tiers], routes: Mapping[str, int], free: set[int]
) -> dict[Tiers, int]:
    """Give each tiers the group of the agent most of its routes already use (after a
    restart, so that they need no change), if no other tiers got it first."""
    votes: dict[Tiers, Counter[int]] = {}
    for prefix, tiers in desired.items():
        current = routes.get(prefix)
        if current in free:
            votes.setdefault(tiers, Counter())[current] += 1
    adopted: dict[Tiers, int] = {}
    for tiers, counter in sorted(votes.items(), key=lambda item: -max(item[1].values())):
        for group_id, _count in counter.most_common():
            if group_id in free:
                free.discard(group_id)
                adopted[tiers] = group_id
                break
    return adopted


def _nexthop_ids(
    hops: list[Hop], ours: Mapping[int, KernelNexthop], known: Ids, pool: _IdPool
) -> dict[tuple[str, int], int]:
    in_kernel = {(n.gateway, n.oif): n.id for n in ours.values() if not n.group}
    result: dict[tuple[str, int], int] = {}
    for hop in hops:
        if hop.key in result:
            continue
        if hop.key in in_kernel:
            result[hop.key] = pool.take(in_kernel[hop.key])
        elif pool.free(known.nexthops.get(hop.key)):
            result[hop.key] = pool.take(known.nexthops[hop.key])
        else:
            result[hop.key] = pool.allocate()
    return result


def _group_ids(
    desired: Mapping[str, Tiers],
    routes: Mapping[str, int],
    ours: Mapping[int, KernelNexthop],
    known: Ids,
    pool: _IdPool,
) -> dict[Tiers, int]:
    groups = {i for i, n in ours.items() if n.group}
    result: dict[Tiers, int] = {}
    for tiers in dict.fromkeys(desired.values()):
        group_id = known.groups.get(tiers)
        if group_id in groups or pool.free(group_id):
            assert group_id is not None
            result[tiers] = pool.take(group_id)
            groups.discard(group_id)
    missing = {p: t for p, t in desired.items() if t not in result}
    for tiers, group_id in _adopt_groups(missing, routes, groups).items():
        result[tiers] = pool.take(group_id)
    for tiers in dict.fromkeys(missing.values()):
        if tiers not in result:
            result[tiers] = pool.allocate()
    return result


def plan_sync(
    desired: Mapping[str, Tiers],
    kernel_routes: Iterable[KernelRoute],
    kernel_nexthops: Iterable[KernelNexthop],
    known: Ids,
    avoided: Set[str],
) -> Plan:
    """What to create, correct and remove so that each desired prefix points at the
    group of its tiers, every group holds :func:`in_use`'s hops, and nothing of the
    agent's is left over. ``known``: the ids of the previous plan (kept when the kernel
    still agrees), empty after a restart (then the kernel's objects are adopted)."""
    nexthops = list(kernel_nexthops)
    ours = {n.id: n for n in nexthops if is_ours(n)}
    routes = {r.prefix: r.nexthop_id for r in kernel_routes if r.protocol == RTPROT_BGP}
    pool = _IdPool(n.id for n in nexthops)
    hops = sorted({h for tiers in desired.values() for tier in tiers for h in tier})
    ids = Ids(nexthops=_nexthop_ids(hops, ours, known, pool))
    ids.groups = _group_ids(desired, routes, ours, known, pool)

    nexthop_changes = {}
    for hop in hops:
        nexthop_id = ids.nexthops[hop.key]
        current = ours.get(nexthop_id)
        if current is None or (current.gateway, current.oif) != hop.key:
            nexthop_changes[nexthop_id] = hop
    kernel_groups = {i: n.members for i, n in ours.items() if n.group}

    route_groups = {p: ids.groups[t] for p, t in desired.items()}
    live = set(ids.groups.values()) | set(ids.nexthops.values())
    removed_groups = sorted(i for i, n in ours.items() if n.group and i not in live)
    removed_singles = sorted(i for i, n in ours.items() if not n.group and i not in live)
    return Plan(
        ids=ids,
        nexthops=sorted(nexthop_changes.items()),
        groups=group_changes(ids, kernel_groups, avoided),
        routes=sorted((p, g) for p, g in route_groups.items() if routes.get(p) != g),
        removed_routes=sorted(p for p in routes if p not in desired),
        removed_objects=removed_groups + removed_singles,
        group_tiers={g: t for t, g in ids.groups.items()},
        route_groups=route_groups,
        kernel_groups=kernel_groups,
    )


def group_changes(
    ids: Ids, kernel_groups: Mapping[int, tuple[int, ...]], avoided: Set[str]
) -> list[tuple[int, tuple[int, ...]]]:
    """(group id, member ids) of every group the kernel lacks or holds other members in."""
    changes = []
    for tiers, group_id in ids.groups.items():
        members = ids.members(in_use(tiers, avoided)[0])
        if kernel_groups.get(group_id) != members:
            changes.append((group_id, members))
    return changes


def swaps(
    group_tiers: Mapping[int, Tiers], current: Mapping[int, Tier], avoided: Set[str]
) -> dict[int, Tier]:
    """The groups whose hops in use change under ``avoided``, with their new hops."""
    changed = {}
    for group_id, tiers in group_tiers.items():
        hops, _kept = in_use(tiers, avoided)
        if current.get(group_id) != hops:
            changed[group_id] = hops
    return changed
