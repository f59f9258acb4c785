"""Sites: a group of routers and the prefixes they own. Writes regenerate the policy
objects of the site's routers in the same transaction (service/intent_sync.py)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.api_address import parse_api_address, resolve_api_address
from sdwan.domain.intent import strip_none
from sdwan.domain.status import Status
from sdwan.errors import Conflict, InvalidInput, PermissionDenied
from sdwan.events.model import RESOURCE_CREATED, RESOURCE_DELETED, RESOURCE_UPDATED
from sdwan.schemas.intents import SiteCreate, SiteUpdate
from sdwan.service import intent_sync
from sdwan.service.api_addresses import AddressPolicy
from sdwan.service.common import (
    ChangeNotifier,
    ListQuery,
    Written,
)
from sdwan.service.resource import ResourceService
from sdwan.service.resource_events import EventSink
from sdwan.service.site_common import emit, status_of
from sdwan.service.uow import reading, unit_of_work
from sdwan.service.visibility import ROUTER, SITE, Scope, visible_owner
from sdwan.store import generated_repo, identity_repo, intent_repo, repo
from sdwan.store.intent_repo import IntentRecord, SiteMember, SiteRecord, UplinkRecord


@dataclass(frozen=True)
class SiteInfo:
    record: SiteRecord
    router_names: dict[str, str]
    status: str
    status_detail: str
    uplinks: builtins.list[str] = field(default_factory=list)
    intents: builtins.list[str] = field(default_factory=list)


class SiteService(ResourceService[SiteRecord, SiteRecord, SiteInfo]):
    kind = "site"

    def __init__(
        self,
        *,
        engine: Engine,
        notifier: ChangeNotifier,
        addresses: AddressPolicy,
        events: EventSink | None = None,
    ) -> None:
        super().__init__(engine=engine, notifier=notifier, events=events)
        self._addresses = addresses

    # --- reads -----------------------------------------------------------------

    def info(self, conn: Connection, site: SiteRecord) -> SiteInfo:
        return self.infos(conn, [site])[0]

    def infos(self, conn: Connection, sites: builtins.list[SiteRecord]) -> builtins.list[SiteInfo]:
        """The view of each site, in a number of queries that does not grow with the
        number of sites."""
        ids = [s.id for s in sites]
        names = repo.router_names(
            conn, router_ids=[m.router_uuid for s in sites for m in s.routers]
        )
        generated = generated_repo.owned_by_each(conn, owners=[f"site:{i}" for i in ids])
        uplinks = intent_repo.owned_of_each(conn, UplinkRecord, site_ids=ids)
        intents = intent_repo.owned_of_each(conn, IntentRecord, site_ids=ids)
        out: builtins.list[SiteInfo] = []
        for site in sites:
            status, detail = status_of(generated[f"site:{site.id}"], site.version)
            own = {
                m.router_uuid: names[m.router_uuid] for m in site.routers if m.router_uuid in names
            }
            out.append(
                SiteInfo(
                    site,
                    own,
                    status,
                    detail,
                    [u.name for u in uplinks[site.id]],
                    [i.name for i in intents[site.id]],
                )
            )
        return out

    def get(self, principal: Principal, key: str) -> SiteInfo:
        with reading(self._engine) as conn:
            return self.info(conn, visible_owner(conn, principal, SITE, key))

    def found(
        self, conn: Connection, principal: Principal, ident: str
    ) -> tuple[SiteRecord, SiteRecord]:
        site = visible_owner(conn, principal, SITE, ident)
        return site, site

    def rows(
        self, conn: Connection, scope: Scope, query: ListQuery
    ) -> tuple[builtins.list[SiteRecord], int]:
        return intent_repo.list_sites(conn, **scope.store_args(query))

    def views(self, conn: Connection, rows: builtins.list[SiteRecord]) -> builtins.list[SiteInfo]:
        return self.infos(conn, rows)

    # --- writes ----------------------------------------------------------------

    def create(
        self, principal: Principal, site: SiteCreate, *, ident: str | None = None
    ) -> SiteInfo:
        """``ident``: the new site's id (a rollback re-creating it), else a new one."""
        principal.require_write()
        values = site.model_dump(mode="json")
        with unit_of_work(self._engine) as work:
            conn = work.conn
            if intent_repo.get_site(conn, key=values["name"]) is not None:
                raise Conflict(f"name: a site {values['name']!r} already exists", field="name")
            project = self._project(conn, principal, values)
            members = self._members(conn, principal, project, values["routers"], None)
            stamp = repo.now()
            row = {
                "id": ident or repo.new_id(),
                "project_id": project,
                "name": site.name,
                "prefixes": strip_none(values["prefixes"]),
                "next_hop_self": site.next_hop_self,
                "description": site.description,
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
            try:
                intent_repo.insert_site(conn, values=row, members=members)
            except IntegrityError:
                raise Conflict(f"a site {values['name']!r} was created concurrently") from None
            intent_sync.sync(conn, self._notifier, site_ids=[row["id"]])
            made = intent_repo.get_site(conn, key=row["id"])
            assert made is not None
            emit(
                self._events,
                RESOURCE_CREATED,
                "site",
                made.id,
                made,
                f"site {made.name}",
                version=1,
            )
            return self.info(conn, made)

    def update(
        self, principal: Principal, key: str, *, changes: SiteUpdate, if_match: int | None
    ) -> Written[SiteInfo]:
        """``routers``, when sent, replaces the members; the other fields their own."""
        sent = changes.changes()
        with self.target(principal, key, if_match) as (conn, site, _):
            values = {k: strip_none(v) for k, v in sent.items() if k != "routers"}
            values = {k: v for k, v in values.items() if getattr(site, k) != v}
            left: builtins.list[str] = []
            members = list(site.routers)
            if "routers" in sent:
                members = self._members(conn, principal, site.project_id, sent["routers"], site)
                kept = {m.router_uuid for m in members}
                left = [m.router_uuid for m in site.routers if m.router_uuid not in kept]
                self._check_uplinks_kept(conn, site, left)
            membership_changed = tuple(members) != site.routers
            if not values and not membership_changed:
                return Written(self.info(conn, site))
            self.guarded(
                intent_repo.update_site(
                    conn, site_id=site.id, expected_version=site.version, values=values
                ),
                site.name,
                if_match,
            )
            if membership_changed:
                intent_repo.set_members(conn, site_id=site.id, members=members)
            changes_done = intent_sync.sync(
                conn, self._notifier, site_ids=[site.id], left_routers=left
            )
            updated = intent_repo.get_site(conn, key=site.id)
            assert updated is not None
            fields = [*values, *(["routers"] if membership_changed else [])]
            emit(
                self._events,
                RESOURCE_UPDATED,
                "site",
                site.id,
                updated,
                f"site {site.name}",
                version=updated.version,
                changed=fields,
            )
            warnings = [
                f"{len(c)} generated policy change(s) on {r}" for r, c in changes_done.items()
            ]
            return Written(self.info(conn, updated), warnings)

    def delete(self, principal: Principal, key: str, *, if_match: int | None) -> SiteInfo:
        """Removes the site with its uplinks and intents; their policy objects are
        marked for deletion on the routers (soft resets, no session reset)."""
        with self.target(principal, key, if_match) as (conn, site, _):
            towards = intent_repo.intents_towards(conn, site_id=site.id)
            if towards:
                names = ", ".join(sorted(i.name for i in towards))
                raise Conflict(
                    f"site {site.name} is the destination of intent(s) {names}; change or "
                    "delete them first"
                )
            info = self.info(conn, site)
            self.taking_along(conn, "site", site.id)
            self.guarded(
                intent_repo.delete_site(conn, site_id=site.id, expected_version=site.version),
                site.name,
                if_match,
            )
            intent_sync.sync(
                conn,
                self._notifier,
                site_ids=[],
                left_routers=[m.router_uuid for m in site.routers],
            )
            emit(
                self._events,
                RESOURCE_DELETED,
                "site",
                site.id,
                site,
                f"site {site.name}",
                version=site.version,
            )
            return info

    # --- rules -----------------------------------------------------------------

    def _project(self, conn: Connection, principal: Principal, values: Mapping[str, Any]) -> str:
        wanted = values.get("project")
        if wanted is None:
            if principal.project_id is not None:
                return principal.project_id
            first = values.get("routers") or []
            router = repo.get_router(conn, key=first[0]["router"]) if first else None
            return router.project_id if router is not None else principal.write_project
        if not principal.is_admin and wanted != principal.project_id:
            raise PermissionDenied(
                f"{principal.name} may create sites only in project {principal.project_id}"
            )
        if not identity_repo.project_exists(conn, str(wanted)):
            raise InvalidInput(f"project: no project {wanted!r}", field="project")
        return str(wanted)

    def _members(
        self,
        conn: Connection,
        principal: Principal,
        project: str,
        entries: builtins.list[Mapping[str, Any]],
        site: SiteRecord | None,
    ) -> builtins.list[SiteMember]:
        members: builtins.list[SiteMember] = []
        for index, entry in enumerate(entries):
            where = f"routers[{index}]"
            key = entry["router"]
            router = visible_owner(conn, principal, ROUTER, key, field=f"{where}.router")
            if router.status == Status.PENDING_DELETE:
                raise Conflict(
                    f"{where}.router: router {router.name} is being deleted",
                    field=f"{where}.router",
                )
            if router.project_id != project:
                raise InvalidInput(
                    f"{where}.router: router {router.name} is in project {router.project_id}, "
                    f"the site in {project}",
                    field=f"{where}.router",
                )
            if any(m.router_uuid == router.id for m in members):
                raise InvalidInput(
                    f"{where}.router: {router.name} is listed twice", field=f"{where}.router"
                )
            other = intent_repo.site_of_router(conn, router_id=router.id)
            if other is not None and (site is None or other != site.id):
                found = intent_repo.get_site(conn, key=other)
                raise Conflict(
                    f"{where}.router: router {router.name} is already in site "
                    f"{found.name if found else other}",
                    field=f"{where}.router",
                )
            members.append(
                SiteMember(
                    router.id,
                    self._agent(conn, project, entry, f"{where}.fib_agent"),
                    self._agent(conn, project, entry, f"{where}.probe_agent"),
                )
            )
        return members

    def _agent(
        self, conn: Connection, project: str, entry: Mapping[str, Any], field_name: str
    ) -> str | None:
        """The address of an agent beside the router (``fib_agent``: its status;
        ``probe_agent``: its control): a unix socket the admins' allowlists permit."""
        address = entry.get(field_name.rsplit(".", 1)[1])
        if address is None:
            return None
        try:
            canonical = resolve_api_address(address)
            unix = parse_api_address(canonical).is_unix
        except ValueError as exc:
            raise InvalidInput(f"{field_name}: {exc}", field=field_name) from None
        if not unix:
            agent = "FIB agent's status" if field_name.endswith("fib_agent") else "probe agent"
            raise InvalidInput(
                f"{field_name}: the {agent} is reached over a unix socket (unix:///path) only",
                field=field_name,
            )
        self._addresses.check(
            canonical,
            identity_repo.project_allowlist(conn, project),
            project=project,
            field=field_name,
        )
        return canonical

    def _check_uplinks_kept(
        self, conn: Connection, site: SiteRecord, left: builtins.list[str]
    ) -> None:
        for uplink in intent_repo.owned_of(conn, UplinkRecord, site_id=site.id):
            if uplink.router_uuid in left:
                name = repo.router_names(conn, router_ids=[uplink.router_uuid]).get(
                    uplink.router_uuid
                )
                raise Conflict(
                    f"routers: router {name} carries uplink {uplink.name} of site {site.name}; "
                    "delete the uplink first",
                    field="routers",
                )
