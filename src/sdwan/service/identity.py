"""Built-in identity: users, projects, role assignments, login sessions and API keys.
Every change is audited in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from sdwan.auth import tokens
from sdwan.auth.passwords import MIN_LENGTH, hash_password, verify_password
from sdwan.auth.principal import Principal, Role
from sdwan.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from sdwan.service import audit
from sdwan.service.credentials import DEFAULT_API_KEY_MAX_TTL, DEFAULT_SESSION_TTL, CredentialCalls
from sdwan.service.projects import ProjectCalls
from sdwan.service.uow import reading, transaction
from sdwan.store.identity_tables import projects, role_assignments, users
from sdwan.store.repo import new_id, now
from sdwan.store.tables import api_tokens


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password: at least {MIN_LENGTH} characters", field="password")


class IdentityService(ProjectCalls, CredentialCalls):
    def __init__(
        self,
        engine: Engine,
        *,
        session_ttl: float = DEFAULT_SESSION_TTL,
        throttle: Callable[[str, str], Any] | None = None,
        api_key_max_ttl: float = DEFAULT_API_KEY_MAX_TTL,
    ) -> None:
        self._engine = engine
        self._ttl = session_ttl
        self._throttle = throttle
        self._key_max_ttl = api_key_max_ttl

    # ---- users ----------------------------------------------------------------------

    def create_user(self, principal: Principal, name: str, password: str) -> dict[str, Any]:
        principal.require_admin()
        _check_password(password)
        stamp = now()
        row: dict[str, Any] = {
            "id": new_id(),
            "name": name,
            "password_hash": hash_password(password),
            "created_at": stamp,
            "updated_at": stamp,
        }
        with transaction(self._engine) as conn:
            try:
                conn.execute(insert(users).values(**row))
            except IntegrityError:
                raise Conflict(f"user {name!r} already exists", field="name") from None
            audit.record(
                conn,
                principal,
                action="create",
                resource_type="user",
                resource_id=row["id"],
                resource_name=name,
                project_id=None,
                after=row,
            )
        return self._user_public(row, [])

    def _user_public(self, row: Any, roles: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "name": row["name"],
            "roles": roles,
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }

    def _user(self, conn: Any, key: str) -> Any:
        row = (
            conn.execute(select(users).where((users.c.name == key) | (users.c.id == key)))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"user {key!r} not found")
        return row

    def list_users(self, principal: Principal) -> list[dict[str, Any]]:
        principal.require_admin()
        with reading(self._engine) as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).mappings().all()
            roles = self._roles(conn, None, None)
        return [self._user_public(r, [x for x in roles if x["user_id"] == r["id"]]) for r in rows]

    def get_user(self, principal: Principal, key: str) -> dict[str, Any]:
        with reading(self._engine) as conn:
            row = self._user(conn, key)
            if not principal.is_admin and row["id"] != principal.user_id:
                raise NotFound(f"user {key!r} not found")
            return self._user_public(row, self._roles(conn, row["id"], None))

    def set_password(
        self,
        principal: Principal,
        key: str,
        password: str,
        *,
        current: str | None,
        revoke_api_keys: bool = False,
    ) -> None:
        """Admins set anyone's; a user changes its own with the current password. Ends
        the user's sessions, and with ``revoke_api_keys`` its API keys too."""
        _check_password(password)
        with reading(self._engine) as conn:
            row = self._user(conn, key)
        if not principal.is_admin:
            if row["id"] != principal.user_id:
                raise NotFound(f"user {key!r} not found")
            if current is None or not verify_password(current, row["password_hash"]):
                raise PermissionDenied("current_password is wrong or missing")
        new_hash = hash_password(password)  # slow: not while holding the write lock
        kinds = [tokens.SESSION, tokens.API_KEY] if revoke_api_keys else [tokens.SESSION]
        with transaction(self._engine) as conn:
            changed = conn.execute(
                update(users)
                .where(users.c.id == row["id"], users.c.password_hash == row["password_hash"])
                .values(password_hash=new_hash, updated_at=now())
            )
            if changed.rowcount != 1:
                raise Conflict(f"the password of {row['name']} changed meanwhile; try again")
            conn.execute(
                update(api_tokens)
                .where(
                    api_tokens.c.user_id == row["id"],
                    api_tokens.c.kind.in_(kinds),
                    api_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=now())
            )
            audit.record(
                conn,
                principal,
                action="set_password",
                resource_type="user",
                resource_id=row["id"],
                resource_name=row["name"],
                project_id=None,
                before={"password": "old"},
                after={"password": "new", "api_keys_revoked": revoke_api_keys},
            )

    def delete_user(self, principal: Principal, key: str) -> None:
        principal.require_admin()
        with transaction(self._engine) as conn:
            row = self._user(conn, key)
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.user_id == row["id"], api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
            conn.execute(delete(role_assignments).where(role_assignments.c.user_id == row["id"]))
            conn.execute(delete(users).where(users.c.id == row["id"]))
            audit.record(
                conn,
                principal,
                action="delete",
                resource_type="user",
                resource_id=row["id"],
                resource_name=row["name"],
                project_id=None,
                before=row,
            )

    # ---- role assignments -----------------------------------------------------------

    def _roles(self, conn: Any, user_id: str | None, project: str | None) -> list[dict[str, Any]]:
        query = select(
            role_assignments.c.user_id,
            users.c.name.label("user"),
            role_assignments.c.project,
            role_assignments.c.role,
            role_assignments.c.created_at,
        ).join(users, users.c.id == role_assignments.c.user_id)
        if user_id is not None:
            query = query.where(role_assignments.c.user_id == user_id)
        if project is not None:
            query = query.where(role_assignments.c.project == project)
        query = query.order_by(users.c.name, role_assignments.c.project)
        return [dict(r) for r in conn.execute(query).mappings()]

    def list_roles(
        self, principal: Principal, *, user: str | None, project: str | None
    ) -> list[dict[str, Any]]:
        if principal.project_id is not None:
            if project not in (None, principal.project_id):
                return []
            project = principal.project_id
        with reading(self._engine) as conn:
            user_id = self._user(conn, user)["id"] if user else None
            return self._roles(conn, user_id, project)

    def grant(self, principal: Principal, user: str, project: str, role: Role) -> dict[str, Any]:
        """Give ``user`` ``role`` in ``project`` (replacing the role it had there)."""
        principal.require_admin()
        with transaction(self._engine) as conn:
            row = self._user(conn, user)
            if conn.execute(select(projects).where(projects.c.name == project)).first() is None:
                raise InvalidInput(f"project: no project {project!r}", field="project")
            where = (role_assignments.c.user_id == row["id"]) & (
                role_assignments.c.project == project
            )
            before = conn.execute(select(role_assignments).where(where)).mappings().first()
            conn.execute(delete(role_assignments).where(where))
            after = {"user_id": row["id"], "project": project, "role": role, "created_at": now()}
            conn.execute(insert(role_assignments).values(**after))
            audit.record(
                conn,
                principal,
                action="grant",
                resource_type="role_assignment",
                resource_id=f"{row['name']}@{project}",
                resource_name=row["name"],
                project_id=project,
                before=before,
                after=after,
            )
        return {**after, "user": row["name"]}

    def revoke_role(self, principal: Principal, user: str, project: str) -> None:
        principal.require_admin()
        with transaction(self._engine) as conn:
            row = self._user(conn, user)
            where = (role_assignments.c.user_id == row["id"]) & (
                role_assignments.c.project == project
            )
            before = conn.execute(select(role_assignments).where(where)).mappings().first()
            if before is None:
                raise NotFound(f"user {row['name']} has no role in project {project!r}")
            conn.execute(delete(role_assignments).where(where))
            audit.record(
                conn,
                principal,
                action="revoke",
                resource_type="role_assignment",
                resource_id=f"{row['name']}@{project}",
                resource_name=row["name"],
                project_id=project,
                before=before,
            )
