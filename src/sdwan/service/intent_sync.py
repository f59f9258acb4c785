"""Keep the policy rows intents generate equal to what the intent compiler makes of
the store, for the routers of the sites concerned, in the caller's transaction.

Every write to a site, an uplink or an intent calls ``sync`` before it commits, so an
intent and its policy objects change together (the reconciler then swaps them in on
gobgpd atomically). Changes made elsewhere that the compilation depends on (a neighbor
added to a site router, a router's AS) are caught by the intent controller, which
calls ``sync`` again when it sees them (verify/controller.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from sqlalchemy import Connection

from sdwan.domain.intent_compile import (
    IntentView,
    RouterView,
    SiteView,
    UplinkView,
    compile_site,
)
from sdwan.domain.status import Status
from sdwan.service.common import ChangeNotifier
from sdwan.service.intent_steering import IntentSteering, steering_inputs, steering_of
from sdwan.store import generated_repo, intent_repo, repo
from sdwan.store.intent_repo import IntentRecord, SiteRecord, UplinkRecord
from sdwan.store.records import (
    AttachmentRecord,
    DefinedSetRecord,
    NeighborRecord,
    PolicyRecord,
    RouterRecord,
)


def router_view(router: RouterRecord, neighbors: Iterable[NeighborRecord]) -> RouterView:
    """A router as the compiler reads it: with its neighbors not being deleted."""
    peers = tuple((n.address, n.peer_asn) for n in neighbors if n.status != Status.PENDING_DELETE)
    return RouterView(router.id, router.name, router.asn, router.router_id, peers)


def site_routers(conn: Connection, site: SiteRecord) -> list[RouterRecord]:
    """The site's routers that exist, in the site's order."""
    return routers_of_sites(conn, [site])[site.id]


def routers_of_sites(
    conn: Connection, sites: Sequence[SiteRecord]
) -> dict[str, list[RouterRecord]]:
    """Site id -> its routers that exist, in the site's order: one query."""
    keys = [m.router_uuid for site in sites for m in site.routers]
    found = repo.get_routers_by_keys(conn, keys=keys)
    return {
        s.id: [found[m.router_uuid] for m in s.routers if m.router_uuid in found] for s in sites
    }


def intent_view(conn: Connection, intent: IntentRecord) -> IntentView:
    return intent_views(conn, [intent])[intent.id]


def intent_views(conn: Connection, intents: Sequence[IntentRecord]) -> dict[str, IntentView]:
    """Intent id -> its view, with the prefixes of its destination (a site: that
    site's, read for all the intents in one go)."""
    others = intent_repo.sites_by_ids(conn, ids=destination_sites(intents))
    return {
        i.id: IntentView(
            i.id,
            i.name,
            i.destination,
            i.prefer,
            i.return_path,
            _destination_prefixes(i, others),
        )
        for i in intents
    }


def destination_sites(intents: Iterable[IntentRecord]) -> list[str]:
    """The ids of the sites these intents lead to, sorted."""
    return sorted({i.destination["site_id"] for i in intents if i.destination["type"] == "site"})


def _destination_prefixes(
    intent: IntentRecord, sites: Mapping[str, SiteRecord]
) -> tuple[dict[str, object], ...]:
    destination = intent.destination
    if destination["type"] == "prefixes":
        return tuple(destination["prefixes"])
    if destination["type"] == "site":
        other = sites.get(destination["site_id"])
        return tuple(other.prefixes) if other is not None else ()
    return ()


def uplink_view(uplink: UplinkRecord) -> UplinkView:
    return UplinkView(
        uplink.name,
        uplink.router_uuid,
        uplink.neighbor_address,
        uplink.transport,
        uplink.cost,
        uplink.bandwidth_mbps,
    )


def site_view(conn: Connection, site: SiteRecord) -> SiteView:
    """The site as the compiler reads it; intents with an SLA class carry the tiers
    their stored steering puts in force."""
    return site_steering(conn, site)[0]


def site_views(conn: Connection, sites: Sequence[SiteRecord]) -> dict[str, SiteView]:
    """``site_view`` of each site (by id), in a number of queries that does not grow
    with the number of sites."""
    return {ident: found[0] for ident, found in sites_steering(conn, sites).items()}


def site_steering(
    conn: Connection, site: SiteRecord, *, decide_at: float | None = None
) -> tuple[SiteView, dict[str, IntentSteering]]:
    """The site view and the steering of its intents with an SLA class; with
    ``decide_at`` (a plan), the tiers the steering decision at that time would put in
    force, from the quality the agents last reported."""
    return sites_steering(conn, [site], decide_at=decide_at)[site.id]


def sites_steering(
    conn: Connection, sites: Sequence[SiteRecord], *, decide_at: float | None = None
) -> dict[str, tuple[SiteView, dict[str, IntentSteering]]]:
    """``site_steering`` of each site (by id): every read made once for all of them."""
    site_ids = [s.id for s in sites]
    routers = routers_of_sites(conn, sites)
    neighbors = repo.neighbors_of_each(
        conn, router_ids=sorted({r.id for found in routers.values() for r in found})
    )
    all_uplinks = intent_repo.owned_of_each(conn, UplinkRecord, site_ids=site_ids)
    all_intents = intent_repo.owned_of_each(conn, IntentRecord, site_ids=site_ids)
    views = intent_views(conn, [i for found in all_intents.values() for i in found])
    inputs = steering_inputs(
        conn,
        [i for found in all_intents.values() for i in found],
        [u.id for found in all_uplinks.values() for u in found],
        decide_at=decide_at,
    )
    out: dict[str, tuple[SiteView, dict[str, IntentSteering]]] = {}
    for site in sites:
        members = {r.id for r in routers[site.id]}
        uplinks = [u for u in all_uplinks[site.id] if u.router_uuid in members]
        intents = all_intents[site.id]
        uplink_views = tuple(uplink_view(u) for u in uplinks)
        own = {i.id: views[i.id] for i in intents}
        steering = steering_of(inputs, intents, own, uplink_views, {u.name: u.id for u in uplinks})
        for intent_id, steered in steering.items():
            own[intent_id] = replace(own[intent_id], steered=steered.steered())
        view = SiteView(
            site.id,
            site.name,
            tuple(site.prefixes),
            site.next_hop_self,
            tuple(router_view(r, neighbors[r.id]) for r in routers[site.id]),
            uplink_views,
            tuple(own.values()),
        )
        out[site.id] = (view, steering)
    return out


def _descriptions(site: SiteRecord, intents: Iterable[IntentView]) -> dict[str, str]:
    text = {f"site:{site.id}": f"generated by site {site.name}"}
    for intent in intents:
        text[f"intent:{intent.id}"] = f"generated by intent {site.name}/{intent.name}"
    return text


def sync(
    conn: Connection,
    notifier: ChangeNotifier,
    *,
    site_ids: Iterable[str],
    left_routers: Iterable[str] = (),
) -> dict[str, list[str]]:
    """Bring the generated rows of these sites' routers (and of ``left_routers``, which
    just left a site: theirs are removed) up to date; also the sites whose intents
    point at these. Tells the reconciler about every router whose rows changed.
    Returns router uuid -> the changes.

    One sync runs at a time (until its transaction ends): each read sees the latest
    commits, so a sync running beside the transaction that adds an intent could read
    the site before the intent and the generated rows after it, and mark the new
    intent's rows for deletion."""
    intent_repo.lock_for_sync(conn)
    pending = list(dict.fromkeys(site_ids))
    for site_id in list(pending):
        for other in intent_repo.intents_towards(conn, site_id=site_id):
            if other.site_id not in pending:
                pending.append(other.site_id)
    changes: dict[str, list[str]] = {}
    for router_id in left_routers:
        if intent_repo.site_of_router(conn, router_id=router_id) is None:
            done = generated_repo.sync_router(conn, router_id=router_id, desired={}, describe={})
            if done:
                changes[router_id] = done
    for site_id in pending:
        site = intent_repo.get_site(conn, key=site_id)
        if site is None:
            continue
        view = site_view(conn, site)
        describe = _descriptions(site, view.intents)
        for router_id, objects in compile_site(view).items():
            desired = {
                DefinedSetRecord: objects.sets,
                PolicyRecord: objects.policies,
                AttachmentRecord: objects.attachments,
            }
            done = generated_repo.sync_router(
                conn, router_id=router_id, desired=desired, describe=describe
            )
            if done:
                changes[router_id] = done
    for router_id in changes:
        notifier.router_changed(router_id)
    return changes
