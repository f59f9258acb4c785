"""Uplinks: a named role on one neighbor of a site router (transport, cost, bandwidth).
Writes regenerate the site's policy objects in the same transaction."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.status import Status
from sdwan.errors import Conflict, InvalidInput, NotFound
from sdwan.events.model import RESOURCE_CREATED, RESOURCE_DELETED, RESOURCE_UPDATED
from sdwan.service import intent_sync
from sdwan.service.common import ChangeNotifier, Page, Written, check_version
from sdwan.service.resource_events import EventSink, NoEvents
from sdwan.service.site_common import emit, visible_site
from sdwan.service.uow import reading, unit_of_work
from sdwan.store import intent_repo, repo
from sdwan.store.intent_repo import SiteRecord, UplinkRecord

UPDATABLE = ("transport", "cost", "bandwidth_mbps", "description")


@dataclass(frozen=True)
class UplinkInfo:
    record: UplinkRecord
    site_name: str
    router_name: str
    used_by: builtins.list[str]  # intents naming it


class UplinkService:
    def __init__(
        self, *, engine: Engine, notifier: ChangeNotifier, events: EventSink | None = None
    ) -> None:
        self._engine = engine
        self._notifier = notifier
        self._events = events or NoEvents()

    def info(self, conn: Connection, uplink: UplinkRecord, site: SiteRecord) -> UplinkInfo:
        names = repo.router_names(conn, router_ids=[uplink.router_uuid])
        return UplinkInfo(
            uplink, site.name, names.get(uplink.router_uuid, ""), _users(conn, uplink)
        )

    def _visible(
        self, conn: Connection, principal: Principal, ident: str
    ) -> tuple[UplinkRecord, SiteRecord]:
        uplink = intent_repo.get_owned(conn, kind="uplink", owned_id=ident)
        if uplink is None:
            raise NotFound(f"uplink {ident!r} not found")
        try:
            site = visible_site(conn, principal, uplink.site_id)
        except NotFound:
            raise NotFound(f"uplink {ident!r} not found") from None
        return uplink, site

    def get(self, principal: Principal, ident: str) -> UplinkInfo:
        with reading(self._engine) as conn:
            uplink, site = self._visible(conn, principal, ident)
            return self.info(conn, uplink, site)

    def list(
        self,
        principal: Principal,
        *,
        filters: dict[str, Any],
        sort: str | None,
        limit: int,
        offset: int,
    ) -> Page[UplinkInfo]:
        filters = dict(filters)
        with reading(self._engine) as conn:
            if "site" in filters:
                filters["site_id"] = visible_site(
                    conn, principal, filters.pop("site"), field="site"
                ).id
            rows, total = intent_repo.list_owned(
                conn,
                kind="uplink",
                project_id=principal.project_id,
                filters=filters,
                sort=sort,
                limit=limit,
                offset=offset,
            )
            sites = intent_repo.sites_by_ids(conn, ids=sorted({u.site_id for u in rows}))
            return Page([self.info(conn, u, sites[u.site_id]) for u in rows], total, limit, offset)

    def create(self, principal: Principal, *, values: Mapping[str, Any]) -> UplinkInfo:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            site = visible_site(conn, principal, values["site"], field="site")
            if intent_repo.owned_by_name(conn, kind="uplink", site_id=site.id, name=values["name"]):
                raise Conflict(
                    f"name: site {site.name} already has an uplink {values['name']!r}", field="name"
                )
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
                intent_repo.insert_owned(conn, kind="uplink", values=row)
            except IntegrityError:
                raise Conflict(f"uplink {values['name']!r} was created concurrently") from None
            intent_sync.sync(conn, self._notifier, site_ids=[site.id])
            uplink = intent_repo.get_owned(conn, kind="uplink", owned_id=row["id"])
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
            uplink, site = self._visible(conn, principal, ident)
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
            if not intent_repo.update_owned(
                conn,
                kind="uplink",
                owned_id=uplink.id,
                expected_version=uplink.version,
                values=values,
            ):
                raise Conflict(f"uplink {uplink.name} changed concurrently; retry")
            intent_sync.sync(conn, self._notifier, site_ids=[site.id])
            updated = intent_repo.get_owned(conn, kind="uplink", owned_id=uplink.id)
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
            uplink, site = self._visible(conn, principal, ident)
            check_version(kind="uplink", key=ident, current=uplink.version, if_match=if_match)
            users = _users(conn, uplink)
            if users:
                raise Conflict(
                    f"uplink {uplink.name} is named by intent(s) {', '.join(users)}; "
                    "change them first"
                )
            info = self.info(conn, uplink, site)
            intent_repo.delete_owned(conn, kind="uplink", owned_id=uplink.id)
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
        for i in intent_repo.owned_of(conn, kind="intent", site_id=uplink.site_id)
        if isinstance(i.prefer, list) and any(uplink.name in tier for tier in i.prefer)
    ]


def uplink_blocking(conn: Connection, *, router_id: str, address: str) -> str | None:
    """Why a neighbor cannot be deleted: it is an uplink (for the neighbor service)."""
    uplink = intent_repo.uplink_on(conn, router_id=router_id, address=address)
    if uplink is None:
        return None
    site = intent_repo.get_site(conn, key=uplink.site_id)
    return (
        f"neighbor {address} is uplink {uplink.name} of site {site.name if site else '?'}; "
        "delete the uplink first"
    )
