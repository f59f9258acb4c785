"""Uplinks: a named role on one neighbor of a site router (transport, cost, bandwidth).
Writes regenerate the site's policy objects in the same transaction."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.intent import MAX_UPLINKS_PER_SITE
from sdwan.domain.status import Status
from sdwan.errors import Conflict, InvalidInput
from sdwan.events.model import RESOURCE_CREATED, RESOURCE_DELETED, RESOURCE_UPDATED
from sdwan.service import intent_sync
from sdwan.service.common import Written, check_version, require_written
from sdwan.service.site_common import SiteOwnedService, emit
from sdwan.service.uow import unit_of_work
from sdwan.store import intent_repo, repo
from sdwan.store.intent_repo import IntentRecord, SiteRecord, UplinkRecord
from sdwan.store.records import NeighborRecord, RouterRecord

UPDATABLE = ("transport", "cost", "bandwidth_mbps", "description")


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

    def create(self, principal: Principal, *, values: Mapping[str, Any]) -> UplinkInfo:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            site = self.site_for_new(conn, principal, values)
            router = repo.get_router(conn, key=values["router"])
            if router is None or all(m.router_uuid != router.id for m in site.routers):
                raise InvalidInput(
                    f"router: site {site.name} has no router {values['router']!r}", field="router"
                )
            address = values["neighbor"]
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
            stamp = repo.now()
            row = {
                "id": repo.new_id(),
                "site_id": site.id,
                "name": values["name"],
                "router_uuid": router.id,
                "neighbor_address": address,
                "transport": values.get("transport", "internet"),
                "cost": values.get("cost", 100),
                "bandwidth_mbps": values.get("bandwidth_mbps"),
                "description": values.get("description", ""),
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
            try:
                intent_repo.insert_owned(conn, UplinkRecord, values=row)
            except IntegrityError:
                raise Conflict(f"uplink {values['name']!r} was created concurrently") from None
            intent_sync.sync(conn, self._notifier, site_ids=[site.id])
            uplink = intent_repo.get_owned(conn, UplinkRecord, owned_id=row["id"])
            assert uplink is not None  # inserted in this transaction
            emit(
                self._events,
                RESOURCE_CREATED,
                "uplink",
                uplink.id,
                site,
                f"uplink {site.name}/{uplink.name}",
                version=1,
                key=uplink.name,
            )
            return self.info(conn, uplink, site)

    def update(
        self, principal: Principal, ident: str, *, changes: Mapping[str, Any], if_match: int | None
    ) -> Written[UplinkInfo]:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            uplink, site = self.visible(conn, principal, ident)
            check_version(kind="uplink", key=ident, current=uplink.version, if_match=if_match)
            for fixed in ("name", "router", "neighbor", "site"):
                if fixed in changes:
                    raise InvalidInput(
                        f"{fixed}: cannot be changed; delete and create instead", field=fixed
                    )
            values = {
                k: v for k, v in changes.items() if k in UPDATABLE and getattr(uplink, k) != v
            }
            if not values:
                return Written(self.info(conn, uplink, site))
            require_written(
                intent_repo.update_owned(
                    conn,
                    UplinkRecord,
                    owned_id=uplink.id,
                    expected_version=uplink.version,
                    values=values,
                ),
                kind="uplink",
                key=uplink.name,
                if_match=if_match,
            )
            intent_sync.sync(conn, self._notifier, site_ids=[site.id])
            updated = intent_repo.get_owned(conn, UplinkRecord, owned_id=uplink.id)
            assert updated is not None  # updated in this transaction
            emit(
                self._events,
                RESOURCE_UPDATED,
                "uplink",
                uplink.id,
                site,
                f"uplink {site.name}/{uplink.name}",
                version=updated.version,
                changed=values,
                key=uplink.name,
            )
            return Written(self.info(conn, updated, site))

    def delete(self, principal: Principal, ident: str, *, if_match: int | None) -> UplinkInfo:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            uplink, site = self.visible(conn, principal, ident)
            check_version(kind="uplink", key=ident, current=uplink.version, if_match=if_match)
            users = _users(conn, uplink)
            if users:
                raise Conflict(
                    f"uplink {uplink.name} is named by intent(s) {', '.join(users)}; "
                    "change them first"
                )
            info = self.info(conn, uplink, site)
            require_written(
                intent_repo.delete_owned(
                    conn, UplinkRecord, owned_id=uplink.id, expected_version=uplink.version
                ),
                kind="uplink",
                key=uplink.name,
                if_match=if_match,
            )
            intent_sync.sync(conn, self._notifier, site_ids=[site.id])
            emit(
                self._events,
                RESOURCE_DELETED,
                "uplink",
                uplink.id,
                site,
                f"uplink {site.name}/{uplink.name}",
                version=uplink.version,
                key=uplink.name,
            )
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
