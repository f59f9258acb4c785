"""The FIB agent's plan of kernel objects: groups per ordered candidate list, the avoid
rule, adoption after a restart, and the objects of others (pure)."""

from __future__ import annotations

from sdwan.fib.netlink import KernelNexthop, KernelRoute
from sdwan.fib.plan import ID_RANGE, RTPROT_BGP, Hop, Ids, Plan, in_use, plan_sync, swaps

MPLS = Hop("198.18.41.100", "198.18.41.100", 2)
INET = Hop("198.18.51.200", "198.18.51.200", 3)
LTE = Hop("198.18.61.1", "198.18.61.1", 4)
IBGP = Hop("198.18.0.2", "198.18.9.1", 5)  # resolved recursively through 198.18.9.1

PRIMARY_FIRST = ((MPLS,), (INET,))
SHARED = ((MPLS, INET), (LTE,))  # multipath tier, then a backup


def kernel_after(plan: Plan) -> tuple[list[KernelRoute], list[KernelNexthop]]:
    """The kernel once ``plan`` is applied to an empty one."""
    routes = [KernelRoute(p, RTPROT_BGP, g, ()) for p, g in plan.route_groups.items()]
    nexthops = [KernelNexthop(i, RTPROT_BGP, h.gateway, h.oif) for i, h in plan.nexthops]
    nexthops += [KernelNexthop(g, RTPROT_BGP, None, 0, m) for g, m in plan.groups]
    return routes, nexthops


def test_the_first_tier_with_a_usable_hop_is_used() -> None:
    assert in_use(PRIMARY_FIRST, set()) == ((MPLS,), False)
    assert in_use(PRIMARY_FIRST, {MPLS.next_hop}) == ((INET,), False)
    assert in_use(SHARED, {INET.next_hop}) == ((MPLS,), False)  # the multipath tier shrinks
    assert in_use(SHARED, {MPLS.next_hop, INET.next_hop}) == ((LTE,), False)
    assert in_use(((IBGP,), (MPLS,)), {IBGP.gateway}) == ((MPLS,), False)  # by gateway too
    # nothing better exists: keep the best tier and say so
    assert in_use(PRIMARY_FIRST, {MPLS.next_hop, INET.next_hop}) == ((MPLS,), True)


def test_routes_sharing_their_candidates_share_one_group() -> None:
    desired = {
        "203.0.113.0/24": PRIMARY_FIRST,
        "198.51.100.0/24": PRIMARY_FIRST,
        "192.0.2.0/24": SHARED,
    }
    plan = plan_sync(desired, [], [], Ids(), set())
    groups = plan.route_groups
    assert groups["203.0.113.0/24"] == groups["198.51.100.0/24"] != groups["192.0.2.0/24"]
    assert sorted(h for _i, h in plan.nexthops) == sorted([MPLS, INET, LTE])  # backups too
    members = dict(plan.groups)
    ids = plan.ids.nexthops
    assert members[groups["203.0.113.0/24"]] == (ids[MPLS.key],)
    assert members[groups["192.0.2.0/24"]] == tuple(sorted((ids[MPLS.key], ids[INET.key])))
    assert all(i in ID_RANGE for i in [*ids.values(), *plan.ids.groups.values()])
    assert len(set(ids.values()) | set(plan.ids.groups.values())) == 5  # all distinct
    assert sorted(p for p, _g in plan.routes) == sorted(desired)


def test_a_synced_kernel_needs_nothing_and_an_avoid_moves_only_groups() -> None:
    desired = {"203.0.113.0/24": PRIMARY_FIRST, "198.51.100.0/24": PRIMARY_FIRST}
    first = plan_sync(desired, [], [], Ids(), set())
    routes, nexthops = kernel_after(first)
    again = plan_sync(desired, routes, nexthops, first.ids, set())
    assert (again.nexthops, again.groups, again.routes, again.removed_objects) == ([], [], [], [])
    # the avoid set only changes the group; a sync under it computes the same
    moved = swaps(first.group_tiers, {g: (MPLS,) for g in first.group_tiers}, {MPLS.next_hop})
    assert moved == {first.route_groups["203.0.113.0/24"]: (INET,)}
    avoided = plan_sync(desired, routes, nexthops, first.ids, {MPLS.next_hop})
    assert avoided.routes == [] and avoided.groups == [
        (first.route_groups["203.0.113.0/24"], (first.ids.nexthops[INET.key],))
    ]


def test_after_a_restart_the_kernel_objects_are_adopted() -> None:
    desired = {"203.0.113.0/24": PRIMARY_FIRST, "192.0.2.0/24": SHARED}
    first = plan_sync(desired, [], [], Ids(), set())
    routes, nexthops = kernel_after(first)
    restarted = plan_sync(desired, routes, nexthops, Ids(), set())  # memory lost
    assert restarted.ids == first.ids
    assert (restarted.nexthops, restarted.groups, restarted.routes) == ([], [], [])


def test_leftovers_go_and_the_objects_of_others_stay() -> None:
    desired = {"203.0.113.0/24": PRIMARY_FIRST}
    first = plan_sync(desired, [], [], Ids(), set())
    routes, nexthops = kernel_after(first)
    orphan_group = ID_RANGE.start + 500
    orphan_single = ID_RANGE.start + 501
    foreign = [
        KernelNexthop(ID_RANGE.start + 1, 11, "198.18.41.100", 2),  # FRR's, id in our range
        KernelNexthop(77, RTPROT_BGP, "198.18.41.100", 2),  # protocol 186 outside our range
    ]
    nexthops = [n for n in nexthops if n.id != ID_RANGE.start + 1]
    nexthops += [
        KernelNexthop(orphan_group, RTPROT_BGP, None, 0, (first.ids.nexthops[MPLS.key],)),
        KernelNexthop(orphan_single, RTPROT_BGP, "198.18.71.1", 6),
        *foreign,
    ]
    routes += [
        KernelRoute("198.51.100.0/24", RTPROT_BGP, orphan_group, ()),  # withdrawn since
        KernelRoute("192.0.2.0/24", 2, 0, ()),  # connected: someone else's
    ]
    plan = plan_sync(desired, routes, nexthops, Ids(), set())
    assert plan.removed_routes == ["198.51.100.0/24"]
    assert plan.removed_objects == [orphan_group, orphan_single]  # the group first
    given = [*plan.ids.nexthops.values(), *plan.ids.groups.values()]
    assert ID_RANGE.start + 1 not in given and 77 not in given  # never taken
    assert all(i in ID_RANGE for i in given)
