"""The BGP configuration the reconciler compares: what we want on a gobgpd and
what it has, reduced to the fields the orchestrator manages."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

DEFAULT_HOLD_TIME = 90
DEFAULT_KEEPALIVE = 30
DEFAULT_LISTEN_PORT = 179


@dataclass(frozen=True)
class GlobalConfig:
    asn: int
    router_id: str
    listen_port: int = DEFAULT_LISTEN_PORT
    listen_addresses: tuple[str, ...] = ()  # empty: gobgpd's default (all addresses)


@dataclass(frozen=True)
class PeerConfig:
    """One neighbor as gobgpd should hold it. ``description`` stays in the store:
    gobgpd keeps it in the part of the peer whose change re-creates the session."""

    address: str
    peer_asn: int
    hold_time: int = DEFAULT_HOLD_TIME
    keepalive_interval: int = DEFAULT_KEEPALIVE
    local_address: str | None = None
    passive: bool = False
    ebgp_multihop_ttl: int = 0  # 0: multihop off
    password: str = ""
    route_reflector_client: bool = False
    enabled: bool = True
    families: tuple[str, ...] = field(default=("ipv4-unicast",))


# How gobgpd 3.10 applies a change of each field (pkg/server/server.go updateNeighbor):
# timers are updated in place; conf, transport and families make UpdatePeer re-create
# the session; route-reflector and multihop settings are ignored by UpdatePeer, so the
# peer must be deleted and added again.
IN_PLACE_FIELDS = frozenset({"hold_time", "keepalive_interval"})
RECREATE_FIELDS = frozenset({"ebgp_multihop_ttl", "route_reflector_client"})
SESSION_RESET_FIELDS = (
    frozenset(f.name for f in fields(PeerConfig)) - IN_PLACE_FIELDS - RECREATE_FIELDS - {"address"}
)


def changed_fields(desired: PeerConfig, actual: PeerConfig) -> list[str]:
    return [
        f.name for f in fields(PeerConfig) if getattr(desired, f.name) != getattr(actual, f.name)
    ]
