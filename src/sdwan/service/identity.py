"""Built-in identity: users, projects, role assignments, login sessions and API keys.
Every change is audited in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sdwan.auth import tokens
from sdwan.auth.passwords import MIN_LENGTH, hash_password, verify_password
from sdwan.auth.principal import Principal, Role
from sdwan.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from sdwan.service import audit
from sdwan.service.credentials import DEFAULT_API_KEY_MAX_TTL, DEFAULT_SESSION_TTL, CredentialCalls
from sdwan.service.projects import ProjectCalls
from sdwan.service.uow import reading, unit_of_work
from sdwan.store import identity_repo, token_repo
from sdwan.store.identity_repo import AssignmentRecord, RoleRecord, UserRecord
from sdwan.store.repo import new_id, now


@dataclass(frozen=True)
class UserView:
    """A user with its role assignments (never its password hash: the API shows the
    rest)."""

    record: UserRecord
    roles: list[RoleRecord]


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

    def create_user(self, principal: Principal, name: str, password: str) -> UserView:
        principal.require_admin()
        _check_password(password)
        stamp = now()
        user = UserRecord(
            id=new_id(),
            name=name,
            password_hash=hash_password(password),
            created_at=stamp,
            updated_at=stamp,
        )
        with unit_of_work(self._engine) as work:
            conn = work.conn
            try:
                identity_repo.insert_user(conn, user=user)
            except IntegrityError:
                raise Conflict(f"user {name!r} already exists", field="name") from None
            audit.record(
                conn,
                principal,
                action="create",
                resource_type="user",
                resource_id=user.id,
                resource_name=name,
                project_id=None,
                after=asdict(user),
            )
        return UserView(user, [])

    def _user(self, conn: Connection, key: str) -> UserRecord:
        row = identity_repo.find_user(conn, key=key)
        if row is None:
            raise NotFound(f"user {key!r} not found")
        return row

    def list_users(self, principal: Principal) -> list[UserView]:
        principal.require_admin()
        with reading(self._engine) as conn:
            rows = identity_repo.list_users(conn)
            roles = identity_repo.list_roles(conn)
        return [UserView(r, [x for x in roles if x.user_id == r.id]) for r in rows]

    def get_user(self, principal: Principal, key: str) -> UserView:
        with reading(self._engine) as conn:
            row = self._user(conn, key)
            if not principal.is_admin and row.id != principal.user_id:
                raise NotFound(f"user {key!r} not found")
            return UserView(row, identity_repo.list_roles(conn, user_id=row.id))

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
            if row.id != principal.user_id:
                raise NotFound(f"user {key!r} not found")
            if current is None or not verify_password(current, row.password_hash):
                raise PermissionDenied("current_password is wrong or missing")
        new_hash = hash_password(password)  # slow: not while holding the write lock
        kinds = [tokens.SESSION, tokens.API_KEY] if revoke_api_keys else [tokens.SESSION]
        with unit_of_work(self._engine) as work:
            conn = work.conn
            if not identity_repo.replace_password_hash(
                conn,
                user_id=row.id,
                expected=row.password_hash,
                password_hash=new_hash,
                updated_at=now(),
            ):
                raise Conflict(f"the password of {row.name} changed meanwhile; try again")
            token_repo.revoke_user_tokens(conn, user_id=row.id, kinds=kinds, at=now())
            audit.record(
                conn,
                principal,
                action="set_password",
                resource_type="user",
                resource_id=row.id,
                resource_name=row.name,
                project_id=None,
                before={"password": "old"},
                after={"password": "new", "api_keys_revoked": revoke_api_keys},
            )

    def delete_user(self, principal: Principal, key: str) -> None:
        principal.require_admin()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            row = self._user(conn, key)
            token_repo.revoke_user_tokens(conn, user_id=row.id, kinds=None, at=now())
            identity_repo.delete_user(conn, user_id=row.id)
            audit.record(
                conn,
                principal,
                action="delete",
                resource_type="user",
                resource_id=row.id,
                resource_name=row.name,
                project_id=None,
                before=asdict(row),
            )

    # ---- role assignments -----------------------------------------------------------

    def list_roles(
        self, principal: Principal, *, user: str | None, project: str | None
    ) -> list[RoleRecord]:
        if principal.project_id is not None:
            if project not in (None, principal.project_id):
                return []
            project = principal.project_id
        with reading(self._engine) as conn:
            user_id = self._user(conn, user).id if user else None
            return identity_repo.list_roles(conn, user_id=user_id, project=project)

    def grant(self, principal: Principal, user: str, project: str, role: Role) -> RoleRecord:
        """Give ``user`` ``role`` in ``project`` (replacing the role it had there)."""
        principal.require_admin()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            row = self._user(conn, user)
            if not identity_repo.project_exists(conn, project):
                raise InvalidInput(f"project: no project {project!r}", field="project")
            before = identity_repo.assignments_of(conn, user_id=row.id, project=project)
            after = AssignmentRecord(user_id=row.id, project=project, role=role, created_at=now())
            identity_repo.put_assignment(conn, assignment=after)
            audit.record(
                conn,
                principal,
                action="grant",
                resource_type="role_assignment",
                resource_id=f"{row.name}@{project}",
                resource_name=row.name,
                project_id=project,
                before=asdict(before[0]) if before else None,
                after=asdict(after),
            )
        return RoleRecord(
            user_id=row.id, user=row.name, project=project, role=role, created_at=after.created_at
        )

    def revoke_role(self, principal: Principal, user: str, project: str) -> None:
        principal.require_admin()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            row = self._user(conn, user)
            before = identity_repo.assignments_of(conn, user_id=row.id, project=project)
            if not before:
                raise NotFound(f"user {row.name} has no role in project {project!r}")
            identity_repo.delete_assignment(conn, user_id=row.id, project=project)
            audit.record(
                conn,
                principal,
                action="revoke",
                resource_type="role_assignment",
                resource_id=f"{row.name}@{project}",
                resource_name=row.name,
                project_id=project,
                before=asdict(before[0]),
            )
