"""Path intents: per site and destination, which uplinks in which order, and how the
return direction is shaped. A write compiles the site's intents into policy objects in
the same transaction; the intent's status follows those objects on the routers, its
verdict comes from the intent controller (verify/)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from sdwan.auth.principal import Principal
from sdwan.domain.intent import MAX_INTENTS_PER_SITE, ReturnPath, strip_none
from sdwan.domain.intent_compile import tiers_of
from sdwan.errors import Conflict, InvalidInput
from sdwan.schemas.intents import IntentCreate, IntentUpdate
from sdwan.service import intent_sync
from sdwan.service.common import Written
from sdwan.service.site_common import SiteOwnedService, generated_summary, status_of
from sdwan.service.sla_classes import resolve_for_site
from sdwan.service.uow import unit_of_work
from sdwan.service.visibility import SITE, visible_owner
from sdwan.store import generated_repo, intent_repo, repo, sla_repo
from sdwan.store.intent_repo import IntentRecord, IntentStateRecord, SiteRecord, UplinkRecord


@dataclass(frozen=True)
class IntentInfo:
    record: IntentRecord
    site_name: str
    destination: dict[str, Any]  # public form: a site by name
    tiers: builtins.list[builtins.list[str]]  # resolved ("cost": from the uplinks' costs)
    status: str
    status_detail: str
    state: IntentStateRecord | None
    generated: builtins.list[dict[str, Any]] = field(default_factory=list)
    sla_class: str | None = None  # its name


class IntentService(SiteOwnedService[IntentRecord, IntentInfo]):
    kind = "intent"
    most = MAX_INTENTS_PER_SITE
    record = IntentRecord

    # --- reads (one, a page: SiteOwnedService) ------------------------------------

    def infos(
        self,
        conn: Connection,
        rows: builtins.list[IntentRecord],
        sites: Mapping[str, SiteRecord],
    ) -> builtins.list[IntentInfo]:
        generated = generated_repo.owned_by_each(conn, owners=[f"intent:{i.id}" for i in rows])
        routers = {r.router_uuid for found in generated.values() for r in found}
        names = repo.router_names(conn, router_ids=sorted(routers))
        # with the steered tiers of a class
        views = intent_sync.site_views(conn, [sites[i] for i in sorted({r.site_id for r in rows})])
        classes = sla_repo.classes_by_ids(
            conn, ids=sorted({i.sla_class_id for i in rows if i.sla_class_id is not None})
        )
        targets = intent_repo.sites_by_ids(conn, ids=intent_sync.destination_sites(rows))
        states = intent_repo.states_of(conn, intent_ids=[i.id for i in rows])
        out: builtins.list[IntentInfo] = []
        for intent in rows:
            own = generated[f"intent:{intent.id}"]
            status, detail = status_of(own, intent.version)
            view = views[intent.site_id]
            in_force = next((i for i in view.intents if i.id == intent.id), None)
            if in_force is None:  # not among its site's intents
                in_force = intent_sync.intent_view(conn, intent)
            sla = classes.get(intent.sla_class_id) if intent.sla_class_id is not None else None
            out.append(
                IntentInfo(
                    intent,
                    sites[intent.site_id].name,
                    _public_destination(intent.destination, targets),
                    tiers_of(in_force, view.uplinks),
                    status,
                    detail,
                    states.get(intent.id),
                    generated_summary(own, names),
                    sla.name if sla is not None else None,
                )
            )
        return out

    # --- writes ----------------------------------------------------------------

    def create(
        self, principal: Principal, intent: IntentCreate, *, ident: str | None = None
    ) -> IntentInfo:
        """``ident``: the new intent's id (a rollback), else a new one."""
        principal.require_write()
        values = intent.model_dump(mode="json")
        with unit_of_work(self._engine) as work:
            conn = work.conn
            site = self.site_for_new(conn, principal, intent.site, intent.name)
            fields = self._checked(conn, principal, site, values, None)
            made = self.insert(conn, site, {"name": intent.name, **fields}, ident)
            return self.info(conn, made, site)

    def update(
        self, principal: Principal, ident: str, *, changes: IntentUpdate, if_match: int | None
    ) -> Written[IntentInfo]:
        sent = changes.changes()
        with self.target(principal, ident, if_match) as (conn, intent, site):
            merged = {**_as_values(intent), **sent}
            fields = self._checked(conn, principal, site, merged, intent)
            values = {k: v for k, v in fields.items() if getattr(intent, k) != v}
            if not values:
                return Written(self.info(conn, intent, site))
            updated, done = self.write(conn, site, intent, values, if_match)
            routers = repo.router_names(conn, router_ids=list(done))
            warnings = [
                f"policy on {routers.get(r, r)} changes: soft reset of its neighbors, "
                "no session reset"
                for r in sorted(done)
            ]
            return Written(self.info(conn, updated, site), warnings)

    def delete(self, principal: Principal, ident: str, *, if_match: int | None) -> IntentInfo:
        with self.target(principal, ident, if_match) as (conn, intent, site):
            info = self.info(conn, intent, site)
            self.remove(conn, site, intent, if_match)
            return info

    # --- rules -----------------------------------------------------------------

    def _checked(
        self,
        conn: Connection,
        principal: Principal,
        site: SiteRecord,
        values: Mapping[str, Any],
        current: IntentRecord | None,
    ) -> dict[str, Any]:
        """The stored fields; InvalidInput/Conflict naming the field otherwise."""
        destination = strip_none(dict(values["destination"]))
        if destination["type"] == "site" and "site" in destination:  # else: as stored
            target = visible_owner(
                conn, principal, SITE, destination.pop("site"), field="destination.site"
            )
            if target.id == site.id:
                raise InvalidInput(
                    "destination.site: a site cannot be its own destination",
                    field="destination.site",
                )
            if target.project_id != site.project_id:  # only an admin sees both
                raise InvalidInput(
                    f"destination.site: site {target.name} is in another project than site "
                    f"{site.name}; an intent's destination is a site of its own project",
                    field="destination.site",
                )
            destination = {"type": "site", "site_id": target.id}
        prefer = values["prefer"]
        if isinstance(prefer, list):
            known = {u.name for u in intent_repo.owned_of(conn, UplinkRecord, site_id=site.id)}
            for i, tier in enumerate(prefer):
                for j, name in enumerate(tier):
                    if name not in known:
                        raise InvalidInput(
                            f"prefer[{i}][{j}]: site {site.name} has no uplink {name!r}",
                            field=f"prefer[{i}][{j}]",
                        )
        return_path = dict(values.get("return_path") or ReturnPath().model_dump(mode="json"))
        if ReturnPath.model_validate(return_path).shapes():
            for other in intent_repo.owned_of(conn, IntentRecord, site_id=site.id):
                if (current is None or other.id != current.id) and ReturnPath.model_validate(
                    other.return_path
                ).shapes():
                    raise Conflict(
                        f"return_path: intent {other.name} already shapes how site {site.name} "
                        "is reached; one intent per site may",
                        field="return_path",
                    )
        sla = values.get("sla_class")
        return {
            "destination": destination,
            "prefer": prefer,
            "return_path": return_path,
            "sla_class_id": resolve_for_site(conn, principal, site, sla).id if sla else None,
            "description": values.get("description", ""),
        }


def _as_values(intent: IntentRecord) -> dict[str, Any]:
    return {
        "destination": intent.destination,
        "prefer": intent.prefer,
        "return_path": intent.return_path,
        "sla_class": intent.sla_class_id,
        "description": intent.description,
    }


def public_destination(conn: Connection, destination: Mapping[str, Any]) -> dict[str, Any]:
    if destination["type"] != "site":
        return dict(destination)
    other = intent_repo.get_site(conn, key=destination["site_id"])
    return _public_destination(destination, {other.id: other} if other is not None else {})


def _public_destination(
    destination: Mapping[str, Any], sites: Mapping[str, SiteRecord]
) -> dict[str, Any]:
    """A destination as answered: a site by name (``sites``: the ones read, by id)."""
    if destination["type"] == "site":
        other = sites.get(destination["site_id"])
        return {"type": "site", "site": other.name if other else destination["site_id"]}
    return dict(destination)
