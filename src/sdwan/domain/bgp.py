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
    # Read back from gobgpd only: while a session is up, gobgpd reports the address
    # the session uses, not the configured one, so "unset" cannot be told apart.
    local_address_observed: bool = field(default=False, compare=False)


# How gobgpd 3.10 applies a change of each field (pkg/server/server.go updateNeighbor):
# timers are updated in place; conf, transport and families make UpdatePeer re-create
# the session; route-reflector and multihop settings are ignored by UpdatePeer, so the
# peer must be deleted and added again.
IN_PLACE_FIELDS = frozenset({"hold_time", "keepalive_interval"})
RECREATE_FIELDS = frozenset({"ebgp_multihop_ttl", "route_reflector_client"})
_COMPARED = tuple(f.name for f in fields(PeerConfig) if f.compare)


def changed_fields(desired: PeerConfig, actual: PeerConfig) -> list[str]:
    changed = [name for name in _COMPARED if getattr(desired, name) != getattr(actual, name)]
    if (
        "local_address" in changed
        and desired.local_address is None
        and actual.local_address_observed
    ):
        changed.remove("local_address")  # unset here; gobgpd shows the session's address
    return changed
