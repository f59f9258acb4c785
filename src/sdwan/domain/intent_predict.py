"""Predict the best path of every router of a site, from the routes its gobgpds hold
now, through the policies they will have. Pure.

Each router's candidates are the paths in its adj-RIB-in (as received, before policy)
run through its import policy, plus the paths it originates. Paths between routers of
the site are not taken from the adj-RIB-in (they would show the policy of today) but
simulated: a router offers its iBGP peers its best path unless it learned that path
over iBGP (gobgpd 3.10 without route reflection), with gobgpd's iBGP export rules
(local preference carried, 100 when absent; next hop kept unless the policy says self)
and the sender's export policy, then the receiver's import policy. Offers and
decisions are iterated until they no longer change (a full mesh settles in two or
three rounds). Routers of the site are recognised among a router's peers by the BGP
identifier the session reports. A ``Budget`` (policy_eval) bounds the policy evaluation
of one prediction: past it, ``WorkLimitExceeded``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sdwan.domain.bestpath import Candidate, Decision, decide
from sdwan.domain.policy_compile import CompiledRouterPolicy
from sdwan.domain.policy_eval import Budget, Session, evaluate
from sdwan.domain.route import PathAttrs

_UNSPECIFIED = (None, "", "0.0.0.0", "::")


@dataclass(frozen=True)
class Peer:
    address: str
    peer_asn: int
    remote_router_id: str | None = None  # BGP identifier, while the session is up
    local_address: str | None = None  # ours on the session (next-hop self)
    established: bool = True


@dataclass(frozen=True)
class Received:
    neighbor: str
    attrs: PathAttrs  # as received (adj-RIB-in, before the import policy)
    received_at: float | None = None


@dataclass
class RouterState:
    """One router as the planner sees it: the policy to predict with, its sessions,
    what it received and what it originates."""

    id: str
    name: str
    asn: int
    router_id: str
    policy: CompiledRouterPolicy
    peers: dict[str, Peer] = field(default_factory=dict)
    received: dict[str, list[Received]] = field(default_factory=dict)  # prefix -> paths
    originated: dict[str, list[PathAttrs]] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    """Where a candidate comes from, for people: the uplink it entered the site by."""

    uplink: str | None  # None: not through an uplink of the site
    via: str  # "uplink mpls (198.18.11.11)", "GoBGP-1 (iBGP) <- uplink mpls", ...
    applied: tuple[str, ...] = ()  # policy statements that changed it on the way


@dataclass
class Prediction:
    router: str  # router uuid
    prefix: str
    decision: Decision
    sources: dict[str, Source]  # candidate key -> source

    @property
    def uplink(self) -> str | None:
        best = self.decision.best
        return self.sources[best.key].uplink if best is not None else None


Uplinks = dict[tuple[str, str], str]  # (router uuid, neighbor address) -> uplink name


def _site_peer(router: RouterState, peer: Peer, by_router_id: dict[str, RouterState]) -> bool:
    other = by_router_id.get(peer.remote_router_id or "")
    return other is not None and other.id != router.id and peer.peer_asn == router.asn


def _external(
    router: RouterState,
    prefix: str,
    uplinks: Uplinks,
    site_ids: dict[str, RouterState],
    budget: Budget | None,
) -> tuple[list[Candidate], dict[str, Source]]:
    candidates: list[Candidate] = []
    sources: dict[str, Source] = {}
    for index, attrs in enumerate(router.originated.get(prefix, [])):
        key = "local" if index == 0 else f"local-{index}"
        candidates.append(Candidate(key, attrs))
        sources[key] = Source(None, "originated here")
    for path in router.received.get(prefix, []):
        peer = router.peers.get(path.neighbor)
        if peer is None or not peer.established or _site_peer(router, peer, site_ids):
            continue
        outcome = evaluate(
            router.policy, "import", path.attrs, Session(peer.address, peer.local_address), budget
        )
        if outcome.attrs is None:
            continue
        name = uplinks.get((router.id, peer.address))
        via = f"uplink {name} ({peer.address})" if name else f"neighbor {peer.address}"
        candidates.append(
            Candidate(
                peer.address,
                outcome.attrs,
                neighbor=peer.address,
                ibgp=peer.peer_asn == router.asn,
                peer_router_id=peer.remote_router_id,
                received_at=path.received_at,
            )
        )
        sources[peer.address] = Source(name, via, tuple(outcome.applied))
    return candidates, sources


def _ibgp_export(attrs: PathAttrs, local: bool, local_address: str | None) -> PathAttrs:
    """gobgpd's UpdatePathAttrs towards an iBGP peer, before the export policy."""
    hop = attrs.next_hop
    if local and hop in _UNSPECIFIED:
        hop = local_address
    return replace(attrs, next_hop=hop, local_pref=attrs.effective_local_pref())


def predict_site(
    routers: list[RouterState],
    prefixes: list[str],
    uplinks: Uplinks,
    *,
    rounds: int = 8,
    budget: Budget | None = None,
) -> dict[tuple[str, str], Prediction]:
    """(router uuid, prefix) -> the predicted decision, for every router and prefix."""
    by_router_id = {r.router_id: r for r in routers}
    base = {
        (r.id, p): _external(r, p, uplinks, by_router_id, budget) for r in routers for p in prefixes
    }
    offers: dict[tuple[str, str], tuple[Candidate, Source]] = {}
    result: dict[tuple[str, str], Prediction] = {}
    for _ in range(max(1, rounds)):
        result = {}
        for router in routers:
            for prefix in prefixes:
                candidates, sources = (
                    list(base[(router.id, prefix)][0]),
                    dict(base[(router.id, prefix)][1]),
                )
                for peer in router.peers.values():
                    if not peer.established or not _site_peer(router, peer, by_router_id):
                        continue
                    sender = by_router_id[peer.remote_router_id or ""]
                    offer = offers.get((sender.id, prefix))
                    if offer is None:
                        continue
                    received = _across(sender, router, peer, offer, budget)
                    if received is not None:
                        candidates.append(received[0])
                        sources[peer.address] = received[1]
                result[(router.id, prefix)] = Prediction(
                    router.id, prefix, decide(candidates), sources
                )
        new_offers = {
            key: (p.decision.best, p.sources[p.decision.best.key])
            for key, p in result.items()
            if p.decision.best is not None and not p.decision.best.ibgp
        }
        if new_offers == offers:
            break
        offers = new_offers
    return result


def _across(
    sender: RouterState,
    receiver: RouterState,
    peer: Peer,
    offer: tuple[Candidate, Source],
    budget: Budget | None,
) -> tuple[Candidate, Source] | None:
    """The sender's best as ``receiver`` gets it over their iBGP session."""
    best, source = offer
    towards = next(
        (p for p in sender.peers.values() if p.remote_router_id == receiver.router_id), None
    )
    if towards is None or not towards.established:
        return None
    exported = evaluate(
        sender.policy,
        "export",
        _ibgp_export(best.attrs, best.local, towards.local_address),
        Session(towards.address, towards.local_address),
        budget,
    )
    if exported.attrs is None:
        return None
    imported = evaluate(
        receiver.policy,
        "import",
        exported.attrs,
        Session(peer.address, peer.local_address),
        budget,
    )
    if imported.attrs is None:
        return None
    where = source.via if source.uplink is None else f"uplink {source.uplink}"
    via = f"{sender.name} (iBGP) <- {where}"
    applied = (*source.applied, *exported.applied, *imported.applied)
    candidate = Candidate(
        peer.address,
        imported.attrs,
        neighbor=peer.address,
        ibgp=True,
        peer_router_id=sender.router_id,
    )
    return candidate, Source(source.uplink, via, applied)
