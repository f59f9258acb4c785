"""Built-in identity: users, projects, role assignments, login sessions and API keys.
Every change is audited in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from sdwan.auth import tokens
from sdwan.auth.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, verify_password
from sdwan.auth.principal import Principal, Role
from sdwan.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from sdwan.service import audit
from sdwan.service.projects import ProjectCalls
from sdwan.service.uow import reading, transaction
from sdwan.store.identity_tables import projects, role_assignments, users
from sdwan.store.repo import new_id, now
from sdwan.store.tables import api_tokens

DEFAULT_SESSION_TTL = 12 * 3600.0
BAD_LOGIN = "invalid username or password"


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password: at least {MIN_LENGTH} characters", field="password")


def _token_public(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "role": row["role"],
        "project": row["scope_project"] or row["project_id"],
        "user_id": row["user_id"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "revoked_at": row["revoked_at"],
    }


class IdentityService(ProjectCalls):
    def __init__(
        self,
        engine: Engine,
        *,
        session_ttl: float = DEFAULT_SESSION_TTL,
        throttle: Callable[[str, str], Any] | None = None,
    ) -> None:
        self._engine = engine
        self._ttl = session_ttl
        self._throttle = throttle

    # ---- sessions -------------------------------------------------------------------

    def login(
        self, username: str, password: str, project: str | None, *, source: str
    ) -> dict[str, Any]:
        """A session token (shown once) for the user's role in ``project`` (optional
        when the user has exactly one role assignment). Unknown user and wrong
        password answer the same 401, after the same work."""
        attempt = self._throttle(username, source) if self._throttle is not None else None
        with reading(self._engine) as conn:
            user = conn.execute(select(users).where(users.c.name == username)).mappings().first()
        ok = verify_password(password, user["password_hash"] if user else DUMMY_HASH)
        if user is None or not ok:
            if attempt is not None:
                attempt.failed()
            raise NotAuthenticated(BAD_LOGIN)
        if attempt is not None:
            attempt.succeeded()
        with transaction(self._engine) as conn:
            where = [role_assignments.c.user_id == user["id"]]
            if project is not None:
                where.append(role_assignments.c.project == project)
            assigned = conn.execute(select(role_assignments).where(*where)).mappings().all()
            if not assigned:
                scope = f" in project {project!r}" if project else ""
                raise PermissionDenied(f"user {username} has no role{scope}")
            if len(assigned) > 1:
                names = ", ".join(sorted(a["project"] for a in assigned))
                raise InvalidInput(
                    f"project: user {username} has roles in several projects ({names}); name one",
                    field="project",
                )
            chosen = assigned[0]
            role = Role(chosen["role"])
            expires = now() + timedelta(seconds=self._ttl)
            token_id, token = tokens.issue(
                conn,
                name=f"login {username}",
                kind=tokens.SESSION,
                role=role,
                scope_project=chosen["project"],
                user_id=user["id"],
                expires_at=expires,
                created_by=username,
            )
            actor = Principal(username, role, chosen["project"], user["id"], token_id, source)
            audit.record(
                conn,
                actor,
                action="login",
                resource_type="token",
                resource_id=token_id,
                resource_name=username,
                project_id=chosen["project"],
            )
        return {
            "token": token,
            "token_id": token_id,
            "expires_at": expires,
            "user": username,
            "project": chosen["project"],
            "role": role,
        }

    def logout(self, principal: Principal) -> None:
        if principal.token_id is None:
            raise InvalidInput("this credential cannot be logged out")
        self.revoke_token(principal, principal.token_id)

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
        self, principal: Principal, key: str, password: str, *, current: str | None
    ) -> None:
        """Admins set anyone's; a user changes its own with the current password."""
        _check_password(password)
        with transaction(self._engine) as conn:
            row = self._user(conn, key)
            if not principal.is_admin:
                if row["id"] != principal.user_id:
                    raise NotFound(f"user {key!r} not found")
                if current is None or not verify_password(current, row["password_hash"]):
                    raise PermissionDenied("current_password is wrong or missing")
            conn.execute(
                update(users)
                .where(users.c.id == row["id"])
                .values(password_hash=hash_password(password), updated_at=now())
            )
            # a new password ends every session of the user
            conn.execute(
                update(api_tokens)
                .where(
                    api_tokens.c.user_id == row["id"],
                    api_tokens.c.kind == tokens.SESSION,
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
                after={"password": "new"},
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

    # ---- API keys and tokens --------------------------------------------------------

    def create_api_key(
        self,
        principal: Principal,
        *,
        name: str,
        role: Role | None,
        project: str | None,
        expires_in: int | None,
    ) -> dict[str, Any]:
        """Admins create free-standing keys with any role and project. Others create
        keys bound to themselves: their project, at most their role."""
        principal.require_write()
        role = role or (Role.MEMBER if principal.is_admin else principal.role)
        if principal.is_admin:
            user_id = None
            if role != Role.ADMIN:
                if project is None:
                    raise InvalidInput("project: required for a non-admin key", field="project")
                self.require_project(project)
            else:
                project = None
        else:
            if project not in (None, principal.project_id):
                raise PermissionDenied(
                    f"you may create keys only in project {principal.project_id}"
                )
            if role.rank > principal.role.rank:
                raise PermissionDenied(f"a key cannot have more than your role ({principal.role})")
            project, user_id = principal.project_id, principal.user_id
            if user_id is None:
                raise PermissionDenied("only users can create API keys")
        expires = now() + timedelta(seconds=expires_in) if expires_in else None
        with transaction(self._engine) as conn:
            token_id, token = tokens.issue(
                conn,
                name=name,
                kind=tokens.API_KEY,
                role=role,
                scope_project=project,
                user_id=user_id,
                expires_at=expires,
                created_by=principal.name,
            )
            row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).mappings()
            public = _token_public(row.one())
            audit.record(
                conn,
                principal,
                action="create",
                resource_type="token",
                resource_id=token_id,
                resource_name=name,
                project_id=project,
                after=public,
            )
        return {**public, "token": token}

    def list_tokens(self, principal: Principal, *, active: bool) -> list[dict[str, Any]]:
        query = select(api_tokens).order_by(api_tokens.c.created_at)
        if not principal.is_admin:
            if principal.user_id is None:
                query = query.where(api_tokens.c.id == principal.token_id)
            else:
                query = query.where(api_tokens.c.user_id == principal.user_id)
        if active:
            query = query.where(
                api_tokens.c.revoked_at.is_(None),
                (api_tokens.c.expires_at.is_(None)) | (api_tokens.c.expires_at > now()),
            )
        with reading(self._engine) as conn:
            return [_token_public(r) for r in conn.execute(query).mappings()]

    def revoke_token(self, principal: Principal, token_id: str) -> dict[str, Any]:
        with transaction(self._engine) as conn:
            row = (
                conn.execute(select(api_tokens).where(api_tokens.c.id == token_id))
                .mappings()
                .first()
            )
            mine = row is not None and (
                row["id"] == principal.token_id
                or (principal.user_id is not None and row["user_id"] == principal.user_id)
            )
            if row is None or not (principal.is_admin or mine):
                raise NotFound(f"token {token_id!r} not found")
            before = _token_public(row)
            if row["revoked_at"] is None:
                conn.execute(
                    update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now())
                )
            after = {**before, "revoked_at": now()}
            audit.record(
                conn,
                principal,
                action="revoke",
                resource_type="token",
                resource_id=token_id,
                resource_name=row["name"],
                project_id=row["scope_project"] or row["project_id"],
                before=before,
                after=after,
            )
        return after
