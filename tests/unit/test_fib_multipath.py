"""The FIB agent's candidate next hops: the multipath set (--multipath: gobgpd's best
path and every path its Path.Compare finds equal to it) and the fallback tiers after
it, in gobgpd's decision order (pure)."""

from __future__ import annotations

from sdwan.fib.candidates import LearnedPath, multipath_hops, next_hop_tiers
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


def tiers(routes: list[Route], multipath: bool) -> list[list[str]]:
    return next_hop_tiers([LearnedPath(r) for r in routes], 65010, multipath=multipath)


def test_fallback_tiers_follow_gobgpds_decision_order() -> None:
    routes = [
        route("198.18.71.1", lp=100),  # lowest local preference: last
        route("198.18.61.1", asns=(65300, 65300), lp=200, source_asn=65300),  # longer path
        route("198.18.41.100", lp=200, best=True),
        route("198.18.51.200", asns=(65200,), lp=200, source_asn=65200),  # equal to the best
    ]
    assert tiers(routes, multipath=True) == [
        ["198.18.41.100", "198.18.51.200"],
        ["198.18.61.1"],
        ["198.18.71.1"],
    ]
    # one path per tier without multipath; the equal one is the first fallback
    # (gobgpd's tie-break: the lower neighbor address between eBGP paths of one age)
    assert tiers(routes, multipath=False) == [
        ["198.18.41.100"],
        ["198.18.51.200"],
        ["198.18.61.1"],
        ["198.18.71.1"],
    ]


def test_rejected_and_local_paths_are_no_candidates() -> None:
    rejected = Route(
        FAR,
        "ipv4-unicast",
        next_hop="198.18.51.200",
        neighbor="198.18.51.200",
        filtered=True,
        source_asn=65200,
    )
    assert tiers([route("198.18.41.100", best=True), rejected], multipath=False) == [
        ["198.18.41.100"]
    ]
    local_best = Route(FAR, "ipv4-unicast", next_hop="0.0.0.0", best=True)
    assert tiers([local_best, route("198.18.41.100")], multipath=False) == []
