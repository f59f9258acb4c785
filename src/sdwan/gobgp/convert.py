"""Between our BGP configuration (sdwan.domain.bgp) and gobgpd's protobuf messages."""

from __future__ import annotations

from sdwan.domain.bgp import GlobalConfig, PeerConfig
from sdwan.gobgp._pb import gobgp_pb2 as pb

_FAMILIES = {
    "ipv4-unicast": (pb.Family.AFI_IP, pb.Family.SAFI_UNICAST),
    "ipv6-unicast": (pb.Family.AFI_IP6, pb.Family.SAFI_UNICAST),
}
_FAMILY_NAMES = {value: name for name, value in _FAMILIES.items()}
_FAMILY_ORDER = {name: index for index, name in enumerate(_FAMILIES)}
_UNSPECIFIED_LOCAL = {"", "0.0.0.0", "::"}


def global_to_proto(config: GlobalConfig) -> pb.Global:
    return pb.Global(
        asn=config.asn,
        router_id=config.router_id,
        listen_port=config.listen_port,
        listen_addresses=list(config.listen_addresses),
    )


def global_from_proto(message: pb.Global) -> GlobalConfig | None:
    """None when BGP is not started (gobgpd answers an empty global)."""
    if message.asn == 0:
        return None
    return GlobalConfig(
        asn=message.asn,
        router_id=message.router_id,
        listen_port=message.listen_port,
        listen_addresses=tuple(message.listen_addresses),
    )


def _any_address(address: str) -> str:
    return "::" if ":" in address else "0.0.0.0"


_SESSION_UP = {pb.PeerState.OPENSENT, pb.PeerState.OPENCONFIRM, pb.PeerState.ESTABLISHED}


def family_to_proto(name: str) -> pb.Family:
    afi, safi = _FAMILIES[name]
    return pb.Family(afi=afi, safi=safi)


def _afi_safis(families: tuple[str, ...]) -> list[pb.AfiSafi]:
    return [
        pb.AfiSafi(config=pb.AfiSafiConfig(family=family_to_proto(name), enabled=True))
        for name in families
    ]


def overlay_peer(peer: PeerConfig, base: pb.Peer | None = None) -> pb.Peer:
    """``peer`` written onto ``base`` (the full peer read from gobgpd, for UpdatePeer,
    which replaces the whole peer) or onto an empty one (AddPeer)."""
    message = pb.Peer()
    if base is not None:
        message.CopyFrom(base)
        message.ClearField("state")
    conf = message.conf
    conf.neighbor_address = peer.address
    conf.peer_asn = peer.peer_asn
    conf.auth_password = peer.password
    conf.admin_down = not peer.enabled
    message.timers.config.hold_time = peer.hold_time
    message.timers.config.keepalive_interval = peer.keepalive_interval
    message.transport.passive_mode = peer.passive
    # gobgpd stores "no local address" as the family's any-address; while a session is
    # up ListPeer shows the session's address instead, which must not be written back.
    message.transport.local_address = peer.local_address or _any_address(peer.address)
    message.ebgp_multihop.enabled = peer.ebgp_multihop_ttl > 0
    message.ebgp_multihop.multihop_ttl = peer.ebgp_multihop_ttl
    message.route_reflector.route_reflector_client = peer.route_reflector_client
    if base is None or _families(base) != peer.families:
        del message.afi_safis[:]
        message.afi_safis.extend(_afi_safis(peer.families))
    return message


def _families(message: pb.Peer) -> tuple[str, ...]:
    names = []
    for afi_safi in message.afi_safis:
        config = afi_safi.config
        name = _FAMILY_NAMES.get((config.family.afi, config.family.safi))
        if name is not None and config.enabled:
            names.append(name)
    if len(names) > 1:
        names.sort(key=_FAMILY_ORDER.__getitem__)
    return tuple(names)


def peer_from_proto(message: pb.Peer) -> PeerConfig:
    """The fields we manage, as gobgpd holds them."""
    local = message.transport.local_address
    return PeerConfig(
        address=message.conf.neighbor_address,
        peer_asn=message.conf.peer_asn,
        hold_time=int(message.timers.config.hold_time),
        keepalive_interval=int(message.timers.config.keepalive_interval),
        local_address=None if local in _UNSPECIFIED_LOCAL else local,
        local_address_observed=message.state.session_state in _SESSION_UP,
        passive=message.transport.passive_mode,
        ebgp_multihop_ttl=message.ebgp_multihop.multihop_ttl
        if message.ebgp_multihop.enabled
        else 0,
        password=message.conf.auth_password,
        route_reflector_client=message.route_reflector.route_reflector_client,
        enabled=not message.conf.admin_down,
        families=_families(message),
    )
