"""The FIB agent's rtnetlink messages decode back to what they say (pure; the kernel
itself answers them in tests/integration/test_fib_avoid.py)."""

from __future__ import annotations

import struct

from sdwan.fib import netlink
from sdwan.fib.netlink import (
    KernelNexthop,
    KernelRoute,
    new_group,
    new_nexthop,
    new_route,
    route_gateways,
)


def test_nexthop_group_and_route_messages_round_trip() -> None:
    single = netlink._decode_nexthop(new_nexthop(7, "2001:db8:1::2", 3, 186).payload)
    assert single == KernelNexthop(7, 186, "2001:db8:1::2", 3)
    group = netlink._decode_nexthop(new_group(9, [7, 8], 186).payload)
    assert group == KernelNexthop(9, 186, None, 0, (7, 8)) and group.group
    decoded = netlink._decode_route(new_route("198.51.100.0/24", 9, 186).payload)
    assert decoded == (254, KernelRoute("198.51.100.0/24", 186, 9, ()))


def test_a_route_with_its_own_next_hops_lists_them() -> None:
    def hop(gateway: bytes) -> bytes:
        attr = struct.pack("=HH", 8, netlink.RTA_GATEWAY) + gateway
        return struct.pack("=HBBi", 8 + len(attr), 0, 0, 2) + attr

    header = struct.pack("=BBBBBBBBI", 2, 24, 0, 0, 254, 186, 0, 1, 0)
    multipath = hop(bytes([198, 18, 1, 2])) + hop(bytes([198, 18, 2, 2]))
    payload = (
        header
        + struct.pack("=HH", 8, netlink.RTA_DST)
        + bytes([203, 0, 113, 0])
        + struct.pack("=HH", 4 + len(multipath), netlink.RTA_MULTIPATH)
        + multipath
    )
    decoded = netlink._decode_route(payload)
    assert decoded is not None
    route = decoded[1]
    assert route.gateways == ("198.18.1.2", "198.18.2.2") and route.nexthop_id == 0
    assert route_gateways([route], []) == {"203.0.113.0/24": ("198.18.1.2", "198.18.2.2")}
    grouped = KernelRoute("192.0.2.0/24", 186, 9, ())
    objects = [
        KernelNexthop(9, 186, None, 0, (7, 8)),
        KernelNexthop(7, 186, "198.18.2.2", 3),
        KernelNexthop(8, 186, "198.18.1.2", 2),
    ]
    assert route_gateways([grouped, route], objects, 186)["192.0.2.0/24"] == (
        "198.18.1.2",
        "198.18.2.2",
    )
