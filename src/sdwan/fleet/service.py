"""Plan, apply and export fleet files through the resource services, all in one
transaction. A dry run runs every check, then throws the result away; on SQLite it
runs on a private in-memory copy of the desired state, so it never holds the
database's one write lock. Only the caller's routers are read: a file naming another
project's router is answered as a POST of that name would be."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.domain.values import default_families
from sdwan.errors import Conflict, InvalidInput
from sdwan.fleet.model import (
    OWNED_KINDS,
    ROUTER,
    Kind,
    RouterSpec,
    create_body,
    parse_fleet,
    patch_body,
)
from sdwan.fleet.plan import Change, answer, current_state, plan_router
from sdwan.fleet.sites import SiteApplier, export_sites, parse_sites, plan_sites
from sdwan.fleet.sla_classes import ClassApplier, export_classes, parse_classes, plan_classes
from sdwan.schemas.neighbors import NeighborCreate, NeighborUpdate
from sdwan.schemas.routers import RouterCreate, RouterUpdate
from sdwan.service.common import ListQuery
from sdwan.service.intent_services import IntentServices
from sdwan.service.neighbors import NeighborService
from sdwan.service.owned import OwnedService
from sdwan.service.revision_log import FLEET, describe
from sdwan.service.routers import RouterService
from sdwan.service.uow import change_or_rehearsal, reading
from sdwan.store import repo

ORDER = [k.section for k in OWNED_KINDS]  # neighbors, sets, policies, attachments, ...


@dataclass
class _Progress:
    """Where one apply stands: state of that request only, never of the service."""

    current: Change | None = None


class FleetService:
    def __init__(
        self,
        *,
        engine: Engine,
        routers: RouterService,
        neighbors: NeighborService,
        owned: Mapping[str, OwnedService[Any]],
        intent: IntentServices,
    ) -> None:
        self._engine = engine
        self._intent = intent
        self._routers = routers
        self._neighbors = neighbors
        self._owned = owned  # by section: defined_sets, policies, attachments, announcements

    def apply(
        self, principal: Principal, document: Any, *, prune: bool, dry_run: bool
    ) -> dict[str, Any]:
        """The plan, and whether it was applied. A plan that fails a check changes
        nothing: InvalidInput/Conflict propagate and the transaction rolls back."""
        principal.require_write()
        specs = parse_fleet(document)
        sites = parse_sites(document)
        classes = parse_classes(document, principal)
        progress = _Progress()
        snapshots = []
        with change_or_rehearsal(self._engine, dry_run=dry_run) as work:
            draft = describe(work, source=FLEET)
            _check_visible(work.conn, principal, specs)
            changes = [c for spec in specs for c in plan_router(work.conn, spec, prune=prune)]
            class_changes = plan_classes(work.conn, principal, classes, prune=prune)
            site_changes = plan_sites(work.conn, sites, prune=prune)
            by_router = {spec.values["name"]: spec for spec in specs}
            applier = ClassApplier(self._intent.sla_classes)
            try:
                applier.upserts(principal, class_changes, classes or [])  # intents name them
                self._execute(principal, changes, by_router, progress, site_changes, sites)
                applier.deletes(principal, class_changes)  # once no intent names them
            except (InvalidInput, Conflict) as exc:
                raise _located(exc, specs, progress.current) from None
            changes = class_changes + changes + site_changes
            if dry_run:  # read now, predict after the rollback
                for site in sites:
                    found = self._intent.planner.snapshot_for(work.conn, site.values["name"])
                    if found is not None:
                        snapshots.append(found)
        predictions = [
            {"site": snapshot.site.name, **item}
            for snapshot in snapshots
            for item in self._intent.planner.predict(snapshot)
        ]
        return {
            **answer(changes, dry_run=dry_run, revision=draft.number),
            "predictions": predictions,
        }

    def _execute(
        self,
        principal: Principal,
        changes: list[Change],
        specs: dict[str, Any],
        progress: _Progress,
        site_changes: list[Change] | None = None,
        sites: list[Any] | None = None,
    ) -> None:
        for change in changes:
            progress.current = change
            if change.kind != "router":
                continue
            if change.action == "create":
                body = create_body(RouterCreate, change.values)
                self._routers.create_many(principal, items=[body])
            elif change.action == "update":
                patch = patch_body(RouterUpdate, {k: v[1] for k, v in change.fields.items()})
                self._routers.update(principal, change.router, if_match=None, changes=patch)
        kinds = {k.name: k for k in OWNED_KINDS}
        for section in ORDER:
            for change in changes:
                kind = kinds.get(change.kind)
                if kind is None or kind.section != section or change.action == "delete":
                    continue
                progress.current = change
                values = specs[change.router].owned[section][change.key]
                if change.action == "create":
                    self._create(principal, kind, change.router, values)
                else:
                    updates = {k: values[k] for k in change.fields}
                    self._update(principal, kind, change, updates)
        if site_changes:  # after the neighbors they name
            progress.current = None
            applier = SiteApplier(self._intent)
            applier.upserts(principal, site_changes, sites or [])
            applier.deletes(principal, site_changes)  # before neighbors they name go
        for section in reversed(ORDER):
            for change in changes:
                kind = kinds.get(change.kind)
                if kind is not None and kind.section == section and change.action == "delete":
                    assert change.id is not None
                    progress.current = change
                    if section == "neighbors":
                        self._neighbors.delete(principal, change.id, if_match=None)
                    else:
                        self._owned[section].delete(principal, change.id, if_match=None)

    def _create(
        self, principal: Principal, kind: Kind, router: str, values: dict[str, Any]
    ) -> None:
        if kind.section == "neighbors":
            neighbor = create_body(NeighborCreate, {**values, "router": router})
            self._neighbors.create_many(principal, items=[neighbor])
            return
        body = create_body(kind.schema, {**values, "router": router})
        self._owned[kind.section].create_many(principal, items=[body])  # type: ignore[list-item]

    def _update(
        self, principal: Principal, kind: Kind, change: Change, updates: dict[str, Any]
    ) -> None:
        assert change.id is not None
        if kind.section == "neighbors":
            neighbor = patch_body(NeighborUpdate, updates)
            self._neighbors.update(principal, change.id, changes=neighbor, if_match=None)
            return
        body = patch_body(kind.patch, updates)
        self._owned[kind.section].update(principal, change.id, changes=body, if_match=None)

    def export(self, principal: Principal, *, names: list[str] | None) -> dict[str, Any]:
        """The store as a fleet file; defaults are left out, passwords never written."""
        with reading(self._engine) as conn:
            everything = names is None
            if names is None:
                page = self._routers.list(principal, ListQuery(sort="name", limit=1000))
                names = [r.name for r in page.items if r.status != "PENDING_DELETE"]
            else:
                for name in names:
                    self._routers.get(principal, name)  # 404 for unknown or invisible
            routers = []
            for name in names:
                values, state = current_state(conn, name)
                if values is None:
                    continue
                entry = _trim(ROUTER, values)
                for kind in OWNED_KINDS:
                    items = [
                        _trim(kind, v)
                        for _id, v in sorted(
                            state.get(kind.section, {}).values(),
                            key=lambda pair: str(pair[1][kind.key]),
                        )
                    ]
                    if items:
                        entry[kind.section] = items
                routers.append(entry)
            document: dict[str, Any] = {"version": 1}
            sites = export_sites(conn, principal, names)
            used = {i["sla_class"] for s in sites for i in s.get("intents", []) if "sla_class" in i}
            classes = export_classes(conn, principal, None if everything else used)
            if classes:
                document["sla_classes"] = classes
            document["routers"] = routers
            if sites:
                document["sites"] = sites
        return document


def _check_visible(conn: Connection, principal: Principal, specs: list[RouterSpec]) -> None:
    """A router of another project is answered as taken, exactly as POST /v1/routers
    answers that name, before anything of it is read (or a password decrypted)."""
    if principal.project_id is None:
        return
    for index, spec in enumerate(specs):
        name = spec.values["name"]
        found = repo.get_router_by_name(conn, name=name)
        if found is not None and found.project_id != principal.project_id:
            raise Conflict(
                f"routers[{index}].name: {name!r} is already in use",
                field=f"routers[{index}].name",
            )


def _located(
    exc: InvalidInput | Conflict, specs: list[RouterSpec], change: Change | None
) -> InvalidInput | Conflict:
    """The service's error, prefixed with where the object stands in the file."""
    if change is None:
        return exc
    where = ""
    for index, spec in enumerate(specs):
        if spec.values["name"] != change.router:
            continue
        where = f"routers[{index}]"
        for kind in OWNED_KINDS:
            if kind.name == change.kind:
                keys = list(spec.owned[kind.section])
                position = keys.index(change.key) if change.key in keys else None
                where += f".{kind.section}" + (
                    f"[{position}]" if position is not None else f"({change.key})"
                )
    if not where:
        return exc
    field = f"{where}.{exc.field}" if exc.field else where
    return type(exc)(
        f"{field}: {exc.message.split(': ', 1)[-1]}" if exc.field else f"{where}: {exc.message}",
        field=field,
    )


def _trim(kind: Kind, values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in kind.fields():
        value = values.get(name)
        if name in ("password", "api_address") and kind.section == "neighbors":
            continue
        if name == kind.key or name in ("type",) or value != _default(kind, name, values):
            out[name] = value
    return out


def _default(kind: Kind, name: str, values: dict[str, Any]) -> Any:
    if kind.section == "neighbors" and name == "families":
        return default_families(values["address"])
    return kind.default(name)
