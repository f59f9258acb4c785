"""The FIB agent's multipath set (--multipath): gobgpd's best path and every path its
Path.Compare finds equal to it, by next hop (pure)."""

from __future__ import annotations

from sdwan.fib.agent import multipath_hops
from sdwan.gobgp.paths import AsSegment, Route

FAR = "203.0.113.0/24"


def route(
    hop: str,
    *,
    asns: tuple[int, ...] = (65100,),
    lp: int | None = None,
    best: bool = False,
    source_asn: int = 65100,
) -> Route:
    return Route(
        FAR,
        "ipv4-unicast",
        next_hop=hop,
        as_path=(AsSegment("sequence", asns),),
        origin="igp",
        local_pref=lp,
        neighbor=hop,
        best=best,
        source_asn=source_asn,
    )


def test_equal_paths_share_the_route_and_longer_ones_do_not() -> None:
    routes = [
        route("198.18.41.100", lp=200, best=True),
        route("198.18.51.200", asns=(65200,), lp=200, source_asn=65200),  # another AS, same length
        route("198.18.61.1", asns=(65300, 65300), lp=200, source_asn=65300),  # longer
        route("198.18.71.1", lp=100),  # lower local preference
    ]
    assert multipath_hops(routes, 65010) == ["198.18.41.100", "198.18.51.200"]


def test_ibgp_and_ebgp_paths_never_share() -> None:
    routes = [route("198.18.41.100", best=True), route("198.18.31.1", source_asn=65010)]
    assert multipath_hops(routes, 65010) == ["198.18.41.100"]
    assert multipath_hops([route("198.18.41.100")], 65010) == []  # no best: nothing
