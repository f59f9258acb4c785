"""Desired BGP configuration read from the store records."""

from __future__ import annotations

from sdwan.domain.bgp import GlobalConfig, PeerConfig
from sdwan.secretbox import SecretBox
from sdwan.store.records import NeighborRecord, RouterRecord


def global_of(router: RouterRecord) -> GlobalConfig:
    return GlobalConfig(
        asn=router.asn,
        router_id=router.router_id,
        listen_port=router.listen_port,
        listen_addresses=tuple(router.listen_addresses),
    )


def peer_of(neighbor: NeighborRecord, secrets: SecretBox) -> PeerConfig:
    return PeerConfig(
        address=neighbor.address,
        peer_asn=neighbor.peer_asn,
        hold_time=neighbor.hold_time,
        keepalive_interval=neighbor.keepalive_interval,
        local_address=neighbor.local_address,
        passive=neighbor.passive,
        ebgp_multihop_ttl=neighbor.ebgp_multihop_ttl,
        password=secrets.open(neighbor.password_sealed) if neighbor.password_sealed else "",
        route_reflector_client=neighbor.route_reflector_client,
        enabled=neighbor.enabled,
        families=tuple(neighbor.families),
    )
