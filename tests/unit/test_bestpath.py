"""gobgpd 3.10's best-path selection, step by step (sdwan.domain.bestpath).

Each test builds two paths that tie on every earlier step and differ on one, so the
step named is the one that decided; the order of the steps is checked by pairs that
differ on two steps at once."""

from __future__ import annotations

import pytest

from sdwan.domain.bestpath import Candidate, Step, compare, decide, multipath_equal
from sdwan.domain.route import PathAttrs
from tests.support.rib import as_path_from_text

PREFIX = "203.0.113.0/24"


def path(
    key: str,
    *,
    as_path: str = "65000",
    lp: int | None = None,
    origin: str = "igp",
    med: int | None = None,
    ibgp: bool = False,
    router_id: str = "198.18.0.9",
    at: float | None = None,
    local: bool = False,
    communities: tuple[str, ...] = (),
) -> Candidate:
    attrs = PathAttrs(
        PREFIX,
        next_hop="192.0.2.1",
        as_path=as_path_from_text(as_path),
        origin=origin,
        med=med,
        local_pref=lp,
        communities=communities,
    )
    return Candidate(
        key,
        attrs,
        neighbor=None if local else key,
        ibgp=ibgp,
        peer_router_id=router_id,
        received_at=at,
    )


@pytest.mark.parametrize(
    ("winner", "loser", "step"),
    [
        (path("198.18.1.1", lp=200), path("198.18.1.2"), Step.LOCAL_PREF),
        (path("198.18.1.1"), path("198.18.1.2", lp=99), Step.LOCAL_PREF),  # absent = 100
        (path("local", local=True, as_path="1 2 3"), path("198.18.1.2"), Step.LOCAL_ORIGIN),
        (
            path("198.18.1.1", as_path="65000"),
            path("198.18.1.2", as_path="65000 65000"),
            Step.AS_PATH,
        ),
        (
            path("198.18.1.1", as_path="65000 {1,2,3}"),
            path("198.18.1.2", as_path="65000 1 2"),
            Step.AS_PATH,
        ),
        (path("198.18.1.1", origin="egp"), path("198.18.1.2", origin="incomplete"), Step.ORIGIN),
        (path("198.18.1.1", med=5), path("198.18.1.2", med=10), Step.MED),
        (path("198.18.1.1"), path("198.18.1.2", med=1), Step.MED),  # absent MED is 0
        (path("198.18.1.1"), path("198.18.1.2", ibgp=True), Step.EBGP),
        (path("198.18.1.2", at=100.0), path("198.18.1.1", at=200.0), Step.OLDER),
        (
            path("198.18.1.2", ibgp=True, router_id="198.18.0.1"),
            path("198.18.1.1", ibgp=True, router_id="198.18.0.2"),
            Step.ROUTER_ID,
        ),
        (path("198.18.1.1", ibgp=True), path("198.18.1.2", ibgp=True), Step.NEIGHBOR),
        (path("198.18.1.1"), path("198.18.1.2", communities=("llgr-stale",)), Step.LLGR_STALE),
    ],
)
def test_each_step_decides_when_the_earlier_ones_tie(
    winner: Candidate, loser: Candidate, step: Step
) -> None:
    for a, b in ((winner, loser), (loser, winner)):
        better, decided, _detail = compare(a, b)
        assert better is winner and decided == step
    decision = decide([loser, winner])
    assert decision.best is winner and decision.step == step


def test_med_is_not_compared_between_different_neighbor_ases() -> None:
    a = path("198.18.1.2", as_path="65000", med=50, at=1.0)
    b = path("198.18.1.1", as_path="65010", med=0, at=2.0)
    better, step, _ = compare(a, b)
    assert step == Step.OLDER and better is a  # MED skipped: the older eBGP path wins


def test_router_id_is_not_a_tie_breaker_between_two_ebgp_paths() -> None:
    a = path("198.18.1.2", router_id="198.18.0.1")
    b = path("198.18.1.1", router_id="198.18.0.2")
    better, step, _ = compare(a, b)  # no ages: straight to the neighbor address
    assert step == Step.NEIGHBOR and better is b


def test_local_preference_outranks_as_path_length_and_ebgp() -> None:
    ibgp_long = path("198.18.31.1", ibgp=True, as_path="65000 65000 65000", lp=300)
    ebgp_short = path("198.18.11.11", as_path="65000", lp=200)
    decision = decide([ebgp_short, ibgp_long])
    assert decision.best is ibgp_long and decision.step == Step.LOCAL_PREF
    assert decision.beats[0].detail == "local-pref 300 vs 200"


def test_decide_ranks_every_path_and_explains_each_loss() -> None:
    paths = [
        path("198.18.1.3", as_path="65000 65000"),
        path("198.18.1.1", lp=300),
        path("198.18.1.2", ibgp=True),
    ]
    decision = decide(paths)
    assert [c.key for c in decision.ranked] == ["198.18.1.1", "198.18.1.2", "198.18.1.3"]
    assert [b.step for b in decision.beats] == [Step.LOCAL_PREF, Step.LOCAL_PREF]
    assert decide([]).best is None and decide([paths[0]]).step == Step.ONLY_PATH


def test_multipath_takes_what_gobgpd_path_compare_finds_equal() -> None:
    a = path("198.18.1.1", as_path="65000", lp=300)
    b = path("198.18.2.1", as_path="65010", lp=300)  # another AS, same length
    c = path("198.18.3.1", as_path="65000 65000", lp=300)
    d = path("198.18.4.1", as_path="65020", lp=300, ibgp=True)
    assert multipath_equal(a, b) and not multipath_equal(a, c) and not multipath_equal(a, d)
    decision = decide([a, b, c, d])
    assert {x.key for x in decision.multipath} == {"198.18.1.1", "198.18.2.1"}
