"""The diff from desired to actual BGP configuration (pure logic)."""

from dataclasses import replace
from typing import Any

import pytest

from sdwan.domain.bgp import GlobalConfig, PeerConfig
from sdwan.reconcile.plan import (
    AddPeer,
    DeletePeer,
    RecreatePeer,
    UpdatePeer,
    plan_global,
    plan_peers,
)

G = GlobalConfig(asn=65001, router_id="198.18.0.1")
P = PeerConfig(address="198.18.1.2", peer_asn=65002)


def test_global_missing_is_started() -> None:
    plan = plan_global(G, None)
    assert plan.start_bgp == G and not plan.stop_bgp


def test_global_equal_needs_nothing() -> None:
    assert plan_global(G, G).empty


@pytest.mark.parametrize(
    "change",
    [
        {"asn": 65009},
        {"router_id": "198.18.0.9"},
        {"listen_port": 1179},
        {"listen_addresses": ("198.18.0.1",)},
    ],
)
def test_global_change_restarts(change: dict[str, Any]) -> None:
    plan = plan_global(replace(G, **change), G)
    assert plan.stop_bgp and plan.start_bgp == replace(G, **change)


def test_default_listen_addresses_match_gobgpd_defaults() -> None:
    actual = replace(G, listen_addresses=("0.0.0.0", "::"))
    assert plan_global(G, actual).empty


def test_router_gone_stops_bgp() -> None:
    assert plan_global(None, G).stop_bgp
    assert plan_global(None, None).empty


def test_missing_peer_is_added_and_unknown_peer_deleted() -> None:
    other = replace(P, address="198.18.1.3")
    steps = plan_peers({P.address: P}, {other.address: other})
    assert steps == [AddPeer(P), DeletePeer(other.address)]


def test_equal_peers_need_nothing() -> None:
    assert plan_peers({P.address: P}, {P.address: replace(P)}) == []


def test_timer_change_is_in_place() -> None:
    want = replace(P, hold_time=9, keepalive_interval=3)
    (step,) = plan_peers({P.address: want}, {P.address: P})
    assert step == UpdatePeer(want, ("hold_time", "keepalive_interval"), resets_session=False)


@pytest.mark.parametrize(
    "change",
    [
        {"peer_asn": 65003},
        {"password": "x"},
        {"enabled": False},
        {"passive": True},
        {"local_address": "198.18.1.1"},
        {"families": ("ipv4-unicast", "ipv6-unicast")},
    ],
)
def test_session_fields_update_with_reset(change: dict[str, Any]) -> None:
    want = replace(P, **change)
    (step,) = plan_peers({P.address: want}, {P.address: P})
    assert isinstance(step, UpdatePeer) and step.resets_session
    assert step.fields == tuple(change)


@pytest.mark.parametrize("change", [{"ebgp_multihop_ttl": 3}, {"route_reflector_client": True}])
def test_fields_update_peer_ignores_recreate_the_peer(change: dict[str, Any]) -> None:
    want = replace(P, **change)
    assert plan_peers({P.address: want}, {P.address: P}) == [RecreatePeer(want, tuple(change))]


def test_scope_limits_the_diff() -> None:
    stray = replace(P, address="198.18.1.9")
    want = replace(P, address="198.18.1.3")
    steps = plan_peers({want.address: want}, {stray.address: stray}, scope={want.address})
    assert steps == [AddPeer(want)]  # the stray peer is out of scope: untouched


def test_scoped_delete() -> None:
    assert plan_peers({}, {P.address: P}, scope={P.address}) == [DeletePeer(P.address)]


def test_observed_local_address_of_an_up_session_is_not_drift() -> None:
    actual = replace(P, local_address="198.18.1.1", local_address_observed=True)
    assert plan_peers({P.address: P}, {P.address: actual}) == []
    pinned = replace(P, local_address="198.18.1.5")
    (step,) = plan_peers({P.address: pinned}, {P.address: actual})
    assert isinstance(step, UpdatePeer) and step.fields == ("local_address",)
