"""Projects: create, list, change (description, the allowlist of gobgpd API
addresses), delete. Part of IdentityService; every change is audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.errors import Conflict, InvalidInput, NotFound
from sdwan.service import audit
from sdwan.service.api_addresses import check_allowlist
from sdwan.service.uow import reading, transaction
from sdwan.store.identity_tables import projects
from sdwan.store.repo import now
from sdwan.store.tables import routers

RESERVED_PREFIX = "keystone-"  # projects mapped from Keystone project ids
_UNSET: Any = object()


def _public(row: Any) -> dict[str, Any]:
    return {
        "name": row["name"],
        "description": row["description"],
        "created_at": row["created_at"],
        "api_address_allow": row["api_address_allow"],
    }


class ProjectCalls:
    _engine: Engine

    def create_project(
        self,
        principal: Principal,
        name: str,
        description: str,
        api_address_allow: list[str] | None = None,
    ) -> dict[str, Any]:
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
        row = {
            "name": name,
            "description": description,
            "created_at": now(),
            "api_address_allow": allow,
        }
        with transaction(self._engine) as conn:
            try:
                conn.execute(insert(projects).values(**row))
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
                after=row,
            )
        return _public(row)

    def update_project(
        self,
        principal: Principal,
        name: str,
        *,
        description: str | None = None,
        api_address_allow: list[str] | None = _UNSET,
    ) -> dict[str, Any]:
        """Admins change the description and the project's own allowlist (None: only
        the server's applies). Routers already declared are not re-checked."""
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
        with transaction(self._engine) as conn:
            before = conn.execute(select(projects).where(projects.c.name == name)).mappings()
            row = before.first()
            if row is None:
                raise NotFound(f"project {name!r} not found")
            if changes:
                conn.execute(update(projects).where(projects.c.name == name).values(**changes))
            after = {**row, **changes}
            audit.record(
                conn,
                principal,
                action="update",
                resource_type="project",
                resource_id=name,
                resource_name=name,
                project_id=name,
                before=row,
                after=after,
            )
        return _public(after)

    def list_projects(self, principal: Principal) -> list[dict[str, Any]]:
        query = select(projects).order_by(projects.c.name)
        if principal.project_id is not None:
            query = query.where(projects.c.name == principal.project_id)
        with reading(self._engine) as conn:
            return [_public(r) for r in conn.execute(query).mappings()]

    def delete_project(self, principal: Principal, name: str) -> None:
        principal.require_admin()
        with transaction(self._engine) as conn:
            row = conn.execute(select(projects).where(projects.c.name == name)).mappings().first()
            if row is None:
                raise NotFound(f"project {name!r} not found")
            count = conn.execute(
                select(func.count()).select_from(routers).where(routers.c.project_id == name)
            ).scalar_one()
            if count:
                raise Conflict(f"project {name} still owns {count} router(s); delete them first")
            conn.execute(delete(projects).where(projects.c.name == name))
            audit.record(
                conn,
                principal,
                action="delete",
                resource_type="project",
                resource_id=name,
                resource_name=name,
                project_id=name,
                before=row,
            )

    def require_project(self, name: str) -> None:
        with reading(self._engine) as conn:
            if conn.execute(select(projects.c.name).where(projects.c.name == name)).first() is None:
                raise InvalidInput(f"project: no project {name!r}", field="project")
