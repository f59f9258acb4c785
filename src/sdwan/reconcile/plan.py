"""The diff: from desired and actual BGP configuration to the smallest set of steps.

Pure functions; the worker executes the steps against gobgpd."""

from __future__ import annotations

from dataclasses import dataclass, field

from sdwan.domain.bgp import (
    IN_PLACE_FIELDS,
    RECREATE_FIELDS,
    GlobalConfig,
    PeerConfig,
    changed_fields,
)


@dataclass(frozen=True)
class AddPeer:
    peer: PeerConfig


@dataclass(frozen=True)
class DeletePeer:
    address: str


@dataclass(frozen=True)
class UpdatePeer:
    """UpdatePeer with the full peer; ``resets_session`` when gobgpd re-creates it."""

    peer: PeerConfig
    fields: tuple[str, ...]
    resets_session: bool


@dataclass(frozen=True)
class RecreatePeer:
    """DeletePeer + AddPeer: for fields UpdatePeer silently ignores."""

    peer: PeerConfig
    fields: tuple[str, ...]


PeerStep = AddPeer | DeletePeer | UpdatePeer | RecreatePeer


def step_address(step: PeerStep) -> str:
    return step.address if isinstance(step, DeletePeer) else step.peer.address


@dataclass
class Plan:
    start_bgp: GlobalConfig | None = None
    stop_bgp: bool = False  # StopBgp first (global change, or router deleted)
    peer_steps: list[PeerStep] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.start_bgp is None and not self.stop_bgp and not self.peer_steps


def global_differs(desired: GlobalConfig, actual: GlobalConfig) -> list[str]:
    diffs = []
    if desired.asn != actual.asn:
        diffs.append("asn")
    if desired.router_id != actual.router_id:
        diffs.append("router_id")
    if desired.listen_port != actual.listen_port:
        diffs.append("listen_port")
    if desired.listen_addresses and set(desired.listen_addresses) != set(actual.listen_addresses):
        diffs.append("listen_addresses")
    return diffs


def plan_global(desired: GlobalConfig | None, actual: GlobalConfig | None) -> Plan:
    """Start, restart or stop BGP. A restart (AS/router-id/listen change) drops every
    peer on gobgpd, so the caller plans peers against an empty actual set afterwards."""
    if desired is None:
        return Plan(stop_bgp=actual is not None)
    if actual is None:
        return Plan(start_bgp=desired)
    if global_differs(desired, actual):
        return Plan(stop_bgp=True, start_bgp=desired)
    return Plan()


def plan_peers(
    desired: dict[str, PeerConfig],
    actual: dict[str, PeerConfig],
    *,
    scope: set[str] | None = None,
) -> list[PeerStep]:
    """Steps that turn ``actual`` into ``desired``.

    ``scope`` limits the diff to these addresses (a targeted reconcile after one
    change); ``None`` diffs everything, and peers gobgpd has but the store does not
    are deleted."""
    addresses = set(desired) | set(actual) if scope is None else scope
    steps: list[PeerStep] = []
    for address in sorted(addresses):
        want, have = desired.get(address), actual.get(address)
        if want is None and have is not None:
            steps.append(DeletePeer(address))
        elif want is not None and have is None:
            steps.append(AddPeer(want))
        elif want is not None and have is not None:
            if want == have:  # the converged case, most of a read-back: one comparison
                continue
            diff = changed_fields(want, have)
            if not diff:
                continue
            if RECREATE_FIELDS.intersection(diff):
                steps.append(RecreatePeer(want, tuple(diff)))
            else:
                resets = not IN_PLACE_FIELDS.issuperset(diff)
                steps.append(UpdatePeer(want, tuple(diff), resets))
    return steps
