"""Uplinks: a named role on one neighbor of a site router (transport, cost, bandwidth).
Writes regenerate the site's policy objects in the same transaction."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from sqlalchemy import Connection

from sdwan.auth.principal import Principal
from sdwan.domain.intent import MAX_UPLINKS_PER_SITE
from sdwan.domain.status import Status
from sdwan.errors import Conflict, InvalidInput
from sdwan.schemas.intents import UplinkCreate, UplinkUpdate
from sdwan.service.common import Written
from sdwan.service.site_common import SiteOwnedService
from sdwan.service.uow import unit_of_work
from sdwan.store import intent_repo, repo
from sdwan.store.intent_repo import IntentRecord, SiteRecord, UplinkRecord
from sdwan.store.records import NeighborRecord, RouterRecord


@dataclass(frozen=True)
class UplinkInfo:
    record: UplinkRecord
    site_name: str
    router_name: str
    used_by: builtins.list[str]  # intents naming it


class UplinkService(SiteOwnedService[UplinkRecord, UplinkInfo]):
    kind = "uplink"
    most = MAX_UPLINKS_PER_SITE
    record = UplinkRecord

    def info(self, conn: Connection, uplink: UplinkRecord, site: SiteRecord) -> UplinkInfo:
        names = repo.router_names(conn, router_ids=[uplink.router_uuid])
        return UplinkInfo(
            uplink, site.name, names.get(uplink.router_uuid, ""), _users(conn, uplink)
        )

    def create(self, principal: Principal, uplink: UplinkCreate) -> UplinkInfo:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            site = self.site_for_new(conn, principal, uplink.site, uplink.name)
            router = repo.get_router(conn, key=uplink.router)
            if router is None or all(m.router_uuid != router.id for m in site.routers):
                raise InvalidInput(
                    f"router: site {site.name} has no router {uplink.router!r}", field="router"
                )
            address = uplink.neighbor
            known = [
                n for n in repo.neighbors_of(conn, router_id=router.id) if n.address == address
            ]
            if not known or known[0].status == Status.PENDING_DELETE:
                raise InvalidInput(
                    f"neighbor: router {router.name} has no neighbor {address}", field="neighbor"
                )
            taken = intent_repo.uplink_on(conn, router_id=router.id, address=address)
            if taken is not None:
                raise Conflict(
                    f"neighbor: {address} on {router.name} is already uplink {taken.name}",
                    field="neighbor",
                )
            made = self.insert(
                conn,
                site,
                {
                    "name": uplink.name,
                    "router_uuid": router.id,
                    "neighbor_address": address,
                    "transport": uplink.transport,
                    "cost": uplink.cost,
                    "bandwidth_mbps": uplink.bandwidth_mbps,
                    "description": uplink.description,
                },
            )
            return self.info(conn, made, site)

    def update(
        self, principal: Principal, ident: str, *, changes: UplinkUpdate, if_match: int | None
    ) -> Written[UplinkInfo]:
        sent = changes.changes()
        with self.target(principal, ident, if_match) as (conn, uplink, site):
            values = {k: v for k, v in sent.items() if getattr(uplink, k) != v}
            if not values:
                return Written(self.info(conn, uplink, site))
            updated, _done = self.write(conn, site, uplink, values, if_match)
            return Written(self.info(conn, updated, site))

    def delete(self, principal: Principal, ident: str, *, if_match: int | None) -> UplinkInfo:
        with self.target(principal, ident, if_match) as (conn, uplink, site):
            users = _users(conn, uplink)
            if users:
                raise Conflict(
                    f"uplink {uplink.name} is named by intent(s) {', '.join(users)}; "
                    "change them first"
                )
            info = self.info(conn, uplink, site)
            self.remove(conn, site, uplink, if_match)
            return info


def _users(conn: Connection, uplink: UplinkRecord) -> builtins.list[str]:
    """Intents of its site that name it in their tiers."""
    return [
        i.name
        for i in intent_repo.owned_of(conn, IntentRecord, site_id=uplink.site_id)
        if isinstance(i.prefer, list) and any(uplink.name in tier for tier in i.prefer)
    ]


def neighbor_is_uplink(
    conn: Connection, router: RouterRecord, neighbor: NeighborRecord
) -> str | None:
    """Why a neighbor cannot be deleted: it is an uplink (the neighbor service's
    delete guard, registered by build_intent_services)."""
    uplink = intent_repo.uplink_on(conn, router_id=router.id, address=neighbor.address)
    if uplink is None:
        return None
    site = intent_repo.get_site(conn, key=uplink.site_id)
    return (
        f"neighbor {neighbor.address} is uplink {uplink.name} of site "
        f"{site.name if site else '?'}; delete the uplink first"
    )
