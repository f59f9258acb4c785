"""Uplinks: a named role on one neighbor of a site router (transport, cost, bandwidth,
how it is measured). Writes regenerate the site's policy objects in the same
transaction. Answers carry the uplink's measured quality (observed state) and its
stored history."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from sdwan.auth.principal import Principal
from sdwan.domain.intent import MAX_UPLINKS_PER_SITE
from sdwan.domain.probe_plan import ProbeSettings
from sdwan.domain.status import Status
from sdwan.errors import Conflict, InvalidInput
from sdwan.schemas.intents import UplinkCreate, UplinkUpdate
from sdwan.service.common import Written
from sdwan.service.site_common import SiteOwnedService
from sdwan.service.uow import reading, unit_of_work
from sdwan.service.uplink_quality import MAX_HISTORY_LIMIT, History, is_stale, pick_resolution
from sdwan.store import intent_repo, quality_repo, repo
from sdwan.store.intent_repo import IntentRecord, SiteRecord, UplinkRecord
from sdwan.store.quality_repo import UplinkQualityRecord
from sdwan.store.records import NeighborRecord, RouterRecord


@dataclass(frozen=True)
class UplinkInfo:
    record: UplinkRecord
    site_name: str
    router_name: str
    used_by: builtins.list[str]  # intents naming it
    quality: UplinkQualityRecord | None = None  # its agent's latest report
    stale: bool = False  # that report is old


class UplinkService(SiteOwnedService[UplinkRecord, UplinkInfo]):
    kind = "uplink"
    most = MAX_UPLINKS_PER_SITE
    record = UplinkRecord

    def infos(
        self,
        conn: Connection,
        rows: builtins.list[UplinkRecord],
        sites: Mapping[str, SiteRecord],
    ) -> builtins.list[UplinkInfo]:
        names = repo.router_names(conn, router_ids=[u.router_uuid for u in rows])
        reports = quality_repo.quality_of(conn, uplink_ids=[u.id for u in rows])
        intents = intent_repo.owned_of_each(
            conn, IntentRecord, site_ids=sorted({u.site_id for u in rows})
        )
        now = repo.now()
        out: builtins.list[UplinkInfo] = []
        for uplink in rows:
            quality = reports.get(uplink.id)
            out.append(
                UplinkInfo(
                    uplink,
                    sites[uplink.site_id].name,
                    names.get(uplink.router_uuid, ""),
                    _users_among(intents[uplink.site_id], uplink),
                    quality,
                    quality is not None and is_stale(quality, now),
                )
            )
        return out

    def history(
        self,
        principal: Principal,
        ident: str,
        *,
        resolution: int | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> History:
        """The uplink's stored quality at ``resolution`` seconds a point (None: the
        finest that reaches back to ``since``), points starting in [since, until), the
        newest ``limit`` of them, oldest first."""
        if not 1 <= limit <= MAX_HISTORY_LIMIT:
            raise InvalidInput(f"limit: must be 1..{MAX_HISTORY_LIMIT}", field="limit")
        if since is not None and until is not None and until <= since:
            raise InvalidInput("until: must be after since", field="until")
        with reading(self._engine) as conn:
            uplink, site = self.found(conn, principal, ident)
            stored = quality_repo.resolutions_of(conn, uplink_id=uplink.id)
            chosen = resolution if resolution is not None else pick_resolution(stored, since)
            points = (
                quality_repo.history(
                    conn,
                    uplink_id=uplink.id,
                    resolution=chosen,
                    since=since,
                    until=until,
                    limit=limit,
                )
                if chosen is not None
                else []
            )
        return History(uplink.id, site.name, uplink.name, chosen, sorted(stored), points)

    def create(
        self, principal: Principal, uplink: UplinkCreate, *, ident: str | None = None
    ) -> UplinkInfo:
        """``ident``: the new uplink's id (a rollback), else a new one."""
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
                    "probe": stored_probe(uplink.probe),
                    "description": uplink.description,
                },
                ident,
            )
            return self.info(conn, made, site)

    def update(
        self, principal: Principal, ident: str, *, changes: UplinkUpdate, if_match: int | None
    ) -> Written[UplinkInfo]:
        sent = changes.changes()
        if "probe" in sent:
            sent["probe"] = stored_probe(ProbeSettings.model_validate(sent["probe"]))
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


def stored_probe(probe: ProbeSettings) -> dict[str, Any]:
    """How an uplink's probe setting is stored: what differs from the defaults (``{}``:
    every default, so a default that changes reaches every uplink that kept it)."""
    return probe.model_dump(mode="json", exclude_defaults=True)


def probe_of(uplink: UplinkRecord) -> ProbeSettings:
    """An uplink's probe setting in full."""
    return ProbeSettings.model_validate(uplink.probe)


def _users(conn: Connection, uplink: UplinkRecord) -> builtins.list[str]:
    """Intents of its site that name it in their tiers."""
    return _users_among(intent_repo.owned_of(conn, IntentRecord, site_id=uplink.site_id), uplink)


def _users_among(intents: Iterable[IntentRecord], uplink: UplinkRecord) -> builtins.list[str]:
    """Those of ``intents`` (its site's) that name it in their tiers."""
    return [
        i.name
        for i in intents
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
