"""The FIB agent's nexthop groups and avoid set, on real gobgpd and a real kernel: a
router with two eBGP uplinks announcing the same prefixes (sdwan.lab.uplinks), the
agent in the router's namespace, its kernel state read with netlink."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sdwan.fib.netlink import (
    RTM_NEWNEXTHOP,
    RTM_NEWROUTE,
    RTNLGRP_IPV4_ROUTE,
    RTNLGRP_IPV6_ROUTE,
    RTNLGRP_NEXTHOP,
    KernelNexthop,
    Netlink,
    new_group,
    new_nexthop,
    route_gateways,
)
from sdwan.fib.plan import ID_RANGE, RTPROT_BGP, is_ours
from sdwan.fib.status import put_avoid
from sdwan.lab import Namespace, wait_for
from sdwan.lab.uplinks import BACKUP, PRIMARY, UplinkLab, prefixes

COUNT = 200


@pytest.fixture
def uplinks(lab_environment: object, lab_prefix: str, tmp_path: Path) -> Iterator[UplinkLab]:
    scenario = UplinkLab(lab_prefix, tmp_path)
    try:
        scenario.up()
        scenario.announce(COUNT)
        yield scenario
    finally:
        scenario.down()


def kernel(nl: Netlink) -> dict[str, tuple[str, ...]]:
    return route_gateways(nl.routes(), nl.nexthops(), RTPROT_BGP)


def wait_all_via(nl: Netlink, gateway: str, count: int = COUNT) -> dict[str, tuple[str, ...]]:
    def done() -> dict[str, tuple[str, ...]] | None:
        now = kernel(nl)
        via = [p for p, g in now.items() if g == (gateway,)]
        return now if len(via) >= count else None

    found: dict[str, tuple[str, ...]] = wait_for(
        done, timeout=60, what=f"{count} routes via {gateway}"
    )
    return found


def status(scenario: UplinkLab, path: str) -> dict[str, object]:
    transport = httpx.HTTPTransport(uds=scenario.status_socket.removeprefix("unix://"))
    with httpx.Client(transport=transport, base_url="http://fib-agent") as client:
        body: dict[str, object] = client.get(path).json()
        return body


def test_avoid_moves_groups_not_routes_and_bgp_keeps_it(uplinks: UplinkLab) -> None:
    with Netlink(uplinks.router_ns) as nl, Netlink(uplinks.router_ns) as monitor:
        assert compat_mode(uplinks) == "1"
        uplinks.start_agent("--resync", "600")  # only gobgpd's events wake it
        before = wait_all_via(nl, PRIMARY)
        assert compat_mode(uplinks) == "0"  # no per-route notification on a group swap
        assert len(before) == COUNT
        nexthop_of = {r.prefix: r.nexthop_id for r in nl.routes() if r.protocol == RTPROT_BGP}
        assert len(set(nexthop_of.values())) == 1  # one ordered candidate list: one group
        monitor.join(RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEXTHOP)
        monitor.notifications()  # nothing pending

        answer = put_avoid(uplinks.status_socket, [PRIMARY], source="test")
        assert answer["next_hops"] == [PRIMARY]
        assert set(kernel(nl).values()) == {(BACKUP,)}  # done when the PUT answers
        seen = monitor.notifications(timeout=0.5)
        assert seen[RTM_NEWROUTE] == 0  # not one route touched
        assert seen[RTM_NEWNEXTHOP] == 1  # the one group replaced
        assert {r.prefix: r.nexthop_id for r in nl.routes() if r.protocol == RTPROT_BGP} == (
            nexthop_of
        )
        shown = status(uplinks, f"/routes?prefix={prefixes(1)[0]}")
        assert shown["routes"] == {prefixes(1)[0]: [BACKUP]}
        avoided = shown["avoided"]
        assert isinstance(avoided, dict) and list(avoided) == [PRIMARY]
        assert status(uplinks, "/avoid")["since"] == avoided

        # BGP moves on: a new prefix, and one the backup withdraws (no alternative left)
        new, lone = prefixes(COUNT + 1)[-1], prefixes(1)[0]
        uplinks.announce(COUNT + 1)
        wait_for(lambda: kernel(nl).get(new) == (BACKUP,), timeout=30, what="new via backup")
        uplinks.withdraw("up2", lone)  # not gobgpd's best: only a received-path event
        wait_for(
            lambda: kernel(nl).get(lone) == (PRIMARY,),
            timeout=30,
            what="the lone path kept on the primary",
        )
        assert sum(g == (BACKUP,) for g in kernel(nl).values()) == COUNT  # all others stay
        assert status(uplinks, "/routes")["no_alternative"] == [lone]

        # cleared: back to gobgpd's best everywhere, again by groups only
        monitor.notifications()
        put_avoid(uplinks.status_socket, [])
        assert set(kernel(nl).values()) == {(PRIMARY,)}
        assert monitor.notifications(timeout=0.5)[RTM_NEWROUTE] == 0
        assert status(uplinks, "/routes")["no_alternative"] == []
        assert uplinks.stop_agent() == 0
        assert compat_mode(uplinks) == "1"  # restored


def compat_mode(scenario: UplinkLab) -> str:
    answer = Namespace(scenario.router_ns).run(["cat", "/proc/sys/net/ipv4/nexthop_compat_mode"])
    return answer.stdout.strip()


def ours(nl: Netlink) -> list[KernelNexthop]:
    return sorted((n for n in nl.nexthops() if is_ours(n)), key=lambda n: n.id)


def test_restart_after_a_crash_rebuilds_and_leaves_no_orphans(uplinks: UplinkLab) -> None:
    with Netlink(uplinks.router_ns) as nl:
        uplinks.start_agent()
        wait_all_via(nl, PRIMARY)
        put_avoid(uplinks.status_socket, [PRIMARY])
        assert set(kernel(nl).values()) == {(BACKUP,)}
        objects = ours(nl)
        assert len(objects) == 3  # a nexthop per uplink, one group
        uplinks.stop_agent(signal.SIGKILL)  # a crash: everything stays in the kernel
        assert ours(nl) == objects and len(kernel(nl)) == COUNT

        # a stray group of the agent's, and two objects that are not its own
        stray, foreign_proto, outside = ID_RANGE.start + 999, ID_RANGE.start + 998, 4242
        single = next(n for n in objects if not n.group)
        requests = [
            new_group(stray, [single.id], RTPROT_BGP),
            new_nexthop(foreign_proto, PRIMARY, single.oif, 4),
            new_nexthop(outside, PRIMARY, single.oif, RTPROT_BGP),
        ]
        assert nl.execute(requests) == [None, None, None]

        uplinks.start_agent()  # the avoid set is the probe agent's to send again
        wait_for(
            lambda: stray not in {n.id for n in nl.nexthops()},
            timeout=30,
            what="the stray object removed",
        )
        assert set(kernel(nl).values()) == {(PRIMARY,)}
        rebuilt = ours(nl)
        assert len(rebuilt) == 3  # nothing left over, nothing doubled
        assert {n.id for n in rebuilt if n.group} == {n.id for n in objects if n.group}  # adopted
        assert {foreign_proto, outside} <= {n.id for n in nl.nexthops()}

        assert uplinks.stop_agent() == 0
        assert kernel(nl) == {}
        assert ours(nl) == []
        assert {foreign_proto, outside} <= {n.id for n in nl.nexthops()}
