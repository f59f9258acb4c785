"""SLA classes: limits on loss, latency and jitter that an intent's uplinks are steered
on (docs/intent.md, "SLA classes"). A class belongs to a project and is named once in
it; intents of that project name it. Nothing on the routers changes when a class is
written: the quality controller follows its events (resource type ``sla_class``) and
pushes the new limits to the probe agents."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.sla import LIMITS, NO_LIMIT, SlaClassSpec
from sdwan.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from sdwan.events.model import RESOURCE_CREATED, RESOURCE_DELETED, RESOURCE_UPDATED, Event
from sdwan.schemas.quality import SlaClassCreate, SlaClassUpdate
from sdwan.service.common import ListQuery, Page, Written
from sdwan.service.resource import ResourceService
from sdwan.service.uow import reading, unit_of_work
from sdwan.service.visibility import Scope
from sdwan.store import identity_repo, repo, sla_repo
from sdwan.store.intent_repo import SiteRecord
from sdwan.store.sla_repo import SlaClassRecord

KIND = "SLA class"


@dataclass(frozen=True)
class SlaClassInfo:
    record: SlaClassRecord
    used_by: builtins.list[str] = field(default_factory=list)  # site/intent


class SlaClassService(ResourceService[SlaClassRecord, SlaClassRecord, SlaClassInfo]):
    kind = KIND

    # --- reads -----------------------------------------------------------------

    def found(
        self, conn: Connection, principal: Principal, ident: str
    ) -> tuple[SlaClassRecord, SlaClassRecord]:
        """The class ``ident`` (its id, or its name in the caller's project; an admin's
        name must be one project's) names; 404 when the caller may not see it."""
        found = sla_repo.find_classes(conn, key=ident, project_id=principal.project_id)
        if not found:
            raise NotFound(f"{KIND} {ident!r} not found")
        if len(found) > 1:
            projects = ", ".join(c.project_id for c in found)
            raise InvalidInput(
                f"key: projects {projects} each have an {KIND} {ident!r}; name it by its id",
                field="key",
            )
        return found[0], found[0]

    def get(self, principal: Principal, ident: str) -> SlaClassInfo:
        with reading(self._engine) as conn:
            row, _ = self.found(conn, principal, ident)
            return self.views(conn, [row])[0]

    def list(self, principal: Principal, query: ListQuery) -> Page[SlaClassInfo]:
        """The filter ``project`` (an admin's) is the store's ``project_id``."""
        filters = {("project_id" if k == "project" else k): v for k, v in query.filters.items()}
        return super().list(principal, ListQuery(filters, query.sort, query.limit, query.offset))

    def rows(
        self, conn: Connection, scope: Scope, query: ListQuery
    ) -> tuple[builtins.list[SlaClassRecord], int]:
        return sla_repo.list_classes(conn, **scope.store_args(query))

    def views(
        self, conn: Connection, rows: builtins.list[SlaClassRecord]
    ) -> builtins.list[SlaClassInfo]:
        users = sla_repo.users_of(conn, class_ids=[r.id for r in rows])
        return [SlaClassInfo(r, users[r.id]) for r in rows]

    # --- writes ----------------------------------------------------------------

    def create(self, principal: Principal, sla: SlaClassCreate) -> SlaClassInfo:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            project = self._project(conn, principal, sla.project)
            if sla_repo.find_classes(conn, key=sla.name, project_id=project):
                raise Conflict(
                    f"name: project {project} already has an {KIND} {sla.name!r}", field="name"
                )
            stamp = repo.now()
            row = {
                "id": repo.new_id(),
                "project_id": project,
                **sla.model_dump(mode="json", exclude={"project"}),
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
            try:
                sla_repo.insert_class(conn, values=row)
            except IntegrityError:
                raise Conflict(f"{KIND} {sla.name!r} was created concurrently") from None
            made = sla_repo.get_class(conn, class_id=row["id"])
            assert made is not None  # inserted in this transaction
            self._emit(RESOURCE_CREATED, made)
            return SlaClassInfo(made)

    def update(
        self, principal: Principal, ident: str, *, changes: SlaClassUpdate, if_match: int | None
    ) -> Written[SlaClassInfo]:
        sent = changes.changes()
        with self.target(principal, ident, if_match) as (conn, sla, _):
            _checked({**_spec_values(sla), **sent}, sent)
            values = {k: v for k, v in sent.items() if getattr(sla, k) != v}
            if not values:
                return Written(self.views(conn, [sla])[0])
            self.guarded(
                sla_repo.update_class(
                    conn, class_id=sla.id, expected_version=sla.version, values=values
                ),
                sla.name,
                if_match,
            )
            updated = sla_repo.get_class(conn, class_id=sla.id)
            assert updated is not None  # updated in this transaction
            self._emit(RESOURCE_UPDATED, updated, values)
            return Written(self.views(conn, [updated])[0])

    def delete(self, principal: Principal, ident: str, *, if_match: int | None) -> SlaClassInfo:
        """Refused (409, naming them) while intents are steered on it."""
        with self.target(principal, ident, if_match) as (conn, sla, _):
            users = sla_repo.users_of(conn, class_ids=[sla.id])[sla.id]
            if users:
                raise _in_use(sla, users)
            try:
                deleted = sla_repo.delete_class(conn, class_id=sla.id, expected_version=sla.version)
            except IntegrityError:  # an intent took it meanwhile (the database refused)
                raise Conflict(f"{KIND} {sla.name} is now named by an intent; retry") from None
            self.guarded(deleted, sla.name, if_match)
            self._emit(RESOURCE_DELETED, sla)
            return SlaClassInfo(sla)

    # --- rules -----------------------------------------------------------------

    def _project(self, conn: Connection, principal: Principal, wanted: str | None) -> str:
        if wanted is None:
            return principal.write_project
        if not principal.is_admin and wanted != principal.project_id:
            raise PermissionDenied(
                f"{principal.name} may create {KIND}es only in project {principal.project_id}"
            )
        if not identity_repo.project_exists(conn, wanted):
            raise InvalidInput(f"project: no project {wanted!r}", field="project")
        return wanted

    def _emit(self, kind: str, sla: SlaClassRecord, changed: Iterable[str] = ()) -> None:
        """A resource event (``router_name`` holds the class's name, as a site's
        events hold the site's); the audit log records it in the same transaction."""
        verb = {RESOURCE_CREATED: "created", RESOURCE_UPDATED: "updated"}.get(kind, "deleted")
        fields = sorted(set(changed) - {"version", "updated_at"})
        text = f"{KIND} {sla.name} {verb}" + (f": {', '.join(fields)}" if fields else "")
        data = {"version": sla.version, "changed": fields}
        self._events.emit([Event(kind, "sla_class", sla.id, sla.name, text, data, sla.project_id)])


def resolve_for_site(
    conn: Connection, principal: Principal, site: SiteRecord, key: str
) -> SlaClassRecord:
    """The class an intent of ``site`` names (its id or name, in the site's project);
    422 naming ``sla_class`` otherwise, also for an admin naming another project's."""
    found = sla_repo.find_classes(conn, key=key, project_id=site.project_id)
    if found:
        return found[0]
    elsewhere = sla_repo.find_classes(conn, key=key, project_id=None)
    if elsewhere and principal.project_id is None:  # only an admin sees other projects
        raise InvalidInput(
            f"sla_class: {KIND} {key} is in project {elsewhere[0].project_id}, the site "
            f"{site.name} in {site.project_id}; an intent's class is one of its own project",
            field="sla_class",
        )
    raise InvalidInput(
        f"sla_class: no {KIND} {key!r} in project {site.project_id}", field="sla_class"
    )


def _spec_values(sla: SlaClassRecord) -> dict[str, Any]:
    return {k: getattr(sla, k) for k in SlaClassSpec.model_fields}


def _checked(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    """The class after a change is still a class: at least one limit; 422 naming the
    limit lifted otherwise."""
    try:
        SlaClassSpec.model_validate(dict(merged))
    except ValidationError:
        lifted = next((k for k in LIMITS if k in sent), LIMITS[0])
        raise InvalidInput(f"{lifted}: {NO_LIMIT}", field=lifted) from None


def _in_use(sla: SlaClassRecord, users: builtins.list[str]) -> Conflict:
    shown = ", ".join(users[:10]) + (f" and {len(users) - 10} more" if len(users) > 10 else "")
    return Conflict(
        f"{KIND} {sla.name} is named by intent(s) {shown}; change them first (sdwan intent "
        "set SITE/NAME --no-sla)"
    )
