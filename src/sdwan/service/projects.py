"""Projects: create, list, change (description, the allowlist of gobgpd API
addresses), delete. Part of IdentityService; every change is audited."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.errors import Conflict, InvalidInput, NotFound
from sdwan.service import audit
from sdwan.service.api_addresses import check_allowlist
from sdwan.service.uow import reading, unit_of_work
from sdwan.service.webhook_addresses import check_webhook_allowlist
from sdwan.store import identity_repo, repo
from sdwan.store.identity_repo import ProjectRecord
from sdwan.store.repo import now

RESERVED_PREFIX = "keystone-"  # projects mapped from Keystone project ids
_UNSET: Any = object()


class ProjectCalls:
    _engine: Engine

    def create_project(
        self,
        principal: Principal,
        name: str,
        description: str,
        api_address_allow: list[str] | None = None,
        webhook_allow: list[str] | None = None,
    ) -> ProjectRecord:
        principal.require_admin()
        if name.startswith(RESERVED_PREFIX):
            raise InvalidInput(
                f"name: {RESERVED_PREFIX}* names are kept for Keystone projects", field="name"
            )
        allow = (
            None
            if api_address_allow is None
            else check_allowlist(api_address_allow, field="api_address_allow")
        )
        hooks = (
            None
            if webhook_allow is None
            else check_webhook_allowlist(webhook_allow, field="webhook_allow")
        )
        row = ProjectRecord(
            name=name,
            description=description,
            created_at=now(),
            api_address_allow=allow,
            webhook_allow=hooks,
        )
        with unit_of_work(self._engine) as work:
            conn = work.conn
            try:
                identity_repo.insert_project(conn, project=row)
            except IntegrityError:
                raise Conflict(f"project {name!r} already exists", field="name") from None
            audit.record(
                conn,
                principal,
                action="create",
                resource_type="project",
                resource_id=name,
                resource_name=name,
                project_id=name,
                after=asdict(row),
            )
        return row

    def update_project(
        self,
        principal: Principal,
        name: str,
        *,
        description: str | None = None,
        api_address_allow: list[str] | None = _UNSET,
        webhook_allow: list[str] | None = _UNSET,
    ) -> ProjectRecord:
        """Admins change the description and the project's own allowlists (None: only
        the server's applies). Routers already declared are not re-checked; webhooks
        are, at each delivery."""
        principal.require_admin()
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = description
        if api_address_allow is not _UNSET:
            changes["api_address_allow"] = (
                None
                if api_address_allow is None
                else check_allowlist(api_address_allow, field="api_address_allow")
            )
        if webhook_allow is not _UNSET:
            changes["webhook_allow"] = (
                None
                if webhook_allow is None
                else check_webhook_allowlist(webhook_allow, field="webhook_allow")
            )
        with unit_of_work(self._engine) as work:
            conn = work.conn
            row = identity_repo.get_project(conn, name=name)
            if row is None:
                raise NotFound(f"project {name!r} not found")
            if changes:
                identity_repo.update_project(conn, name=name, values=changes)
            after = replace(row, **changes)
            audit.record(
                conn,
                principal,
                action="update",
                resource_type="project",
                resource_id=name,
                resource_name=name,
                project_id=name,
                before=asdict(row),
                after=asdict(after),
            )
        return after

    def list_projects(self, principal: Principal) -> list[ProjectRecord]:
        with reading(self._engine) as conn:
            return identity_repo.list_projects(conn, name=principal.project_id)

    def delete_project(self, principal: Principal, name: str) -> None:
        principal.require_admin()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            row = identity_repo.get_project(conn, name=name)
            if row is None:
                raise NotFound(f"project {name!r} not found")
            count = repo.count_routers(conn, project_id=name)
            if count:
                raise Conflict(f"project {name} still owns {count} router(s); delete them first")
            identity_repo.delete_project(conn, name=name)
            audit.record(
                conn,
                principal,
                action="delete",
                resource_type="project",
                resource_id=name,
                resource_name=name,
                project_id=name,
                before=asdict(row),
            )

    def require_project(self, name: str) -> None:
        with reading(self._engine) as conn:
            if not identity_repo.project_exists(conn, name):
                raise InvalidInput(f"project: no project {name!r}", field="project")
