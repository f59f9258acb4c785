"""Logins (session tokens) and API keys. Part of IdentityService.

Logins are throttled (auth/throttle: counted before the password is checked), and
failed logins and the lockouts they start are audited. A key made by a user is bound
to that user and re-checked on every use (auth/tokens); only a credential without a
user (the bootstrap token) makes free-standing keys. Every key expires: at most
``api_key_max_ttl`` seconds after it was made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from sdwan.auth import tokens
from sdwan.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from sdwan.auth.principal import Principal, Role
from sdwan.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from sdwan.service import audit
from sdwan.service.uow import reading, unit_of_work
from sdwan.store import identity_repo, token_repo
from sdwan.store.repo import now
from sdwan.store.token_repo import TokenRecord

DEFAULT_SESSION_TTL = 12 * 3600.0
DEFAULT_API_KEY_MAX_TTL = 90 * 86400.0
BAD_LOGIN = "invalid username or password"


@dataclass(frozen=True)
class Session:
    """A login's answer: the token (shown this once) and what it stands for."""

    token: str
    token_id: str
    expires_at: datetime
    user: str
    project: str
    role: Role


@dataclass(frozen=True)
class IssuedKey:
    """A new API key: its record and the secret (shown this once)."""

    record: TokenRecord
    token: str


def token_public(row: TokenRecord) -> dict[str, Any]:
    """What the API and the audit log show of a token (never its hash)."""
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "role": row.role,
        "project": row.scope_project or row.project_id,
        "user_id": row.user_id,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
    }


class CredentialCalls:
    _engine: Engine
    _ttl: float
    _key_max_ttl: float
    _throttle: Callable[[str, str], Any] | None

    # ---- sessions -------------------------------------------------------------------

    def login(self, username: str, password: str, project: str | None, *, source: str) -> Session:
        """A session token (shown once) for the user's role in ``project`` (optional
        when the user has exactly one role assignment). Unknown user and wrong
        password answer the same 401, after the same work."""
        attempt = self._throttle(username, source) if self._throttle is not None else None
        with reading(self._engine) as conn:
            user = identity_repo.user_by_name(conn, name=username)
        ok = verify_password(password, user.password_hash if user else dummy_hash())
        if user is None or not ok:
            if attempt is not None:
                attempt.failed()  # a lock it started runs from this answer on
            self._login_failed(username, source, locked=attempt is not None and attempt.locked)
            raise NotAuthenticated(BAD_LOGIN)
        if attempt is not None:
            attempt.succeeded()
        rehashed = hash_password(password) if needs_rehash(user.password_hash) else None
        with unit_of_work(self._engine) as work:
            conn = work.conn
            assigned = identity_repo.assignments_of(conn, user_id=user.id, project=project)
            if not assigned:
                scope = f" in project {project!r}" if project else ""
                raise PermissionDenied(f"user {username} has no role{scope}")
            if len(assigned) > 1:
                names = ", ".join(sorted(a.project for a in assigned))
                raise InvalidInput(
                    f"project: user {username} has roles in several projects ({names}); name one",
                    field="project",
                )
            if rehashed is not None:  # stored with older scrypt parameters
                identity_repo.replace_password_hash(
                    conn,
                    user_id=user.id,
                    expected=user.password_hash,
                    password_hash=rehashed,
                    updated_at=None,
                )
            chosen = assigned[0]
            role = Role(chosen.role)
            expires = now() + timedelta(seconds=self._ttl)
            token_id, token = tokens.issue(
                conn,
                name=f"login {username}",
                kind=tokens.SESSION,
                role=role,
                scope_project=chosen.project,
                user_id=user.id,
                expires_at=expires,
                created_by=username,
            )
            actor = Principal(username, role, chosen.project, user.id, token_id, source)
            audit.record(
                conn,
                actor,
                action="login",
                resource_type="token",
                resource_id=token_id,
                resource_name=username,
                project_id=chosen.project,
            )
        return Session(token, token_id, expires, username, chosen.project, role)

    def _login_failed(self, username: str, source: str, *, locked: bool) -> None:
        """Audit entries (admins see them) for a failed login and the lock it started."""
        with unit_of_work(self._engine) as work:
            conn = work.conn
            for action in ("login_failed", "lockout") if locked else ("login_failed",):
                audit.record_anonymous(conn, username, source, action=action)

    def logout(self, principal: Principal) -> None:
        if principal.token_id is None:
            raise InvalidInput("this credential cannot be logged out")
        self.revoke_token(principal, principal.token_id)

    # ---- API keys -------------------------------------------------------------------

    def create_api_key(
        self,
        principal: Principal,
        *,
        name: str,
        role: Role | None,
        project: str | None,
        expires_in: int | None,
    ) -> IssuedKey:
        """A user's key is bound to the user: its project and at most its role for
        members and readers, any project and role for admins, and it stops working
        when the user could no longer do what the key does. Only the bootstrap token
        (no user) makes free-standing keys."""
        principal.require_write()
        if principal.user_id is None and principal.token_id is None:
            raise PermissionDenied(
                "API keys are made by users or the bootstrap token; a Keystone token "
                "cannot make one (use Keystone application credentials)"
            )
        role = role or (Role.MEMBER if principal.is_admin else principal.role)
        if principal.is_admin:
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
            project = principal.project_id
            if principal.user_id is None:
                raise PermissionDenied("only users can create API keys")
        cap = int(self._key_max_ttl)
        if expires_in is not None and expires_in > cap:
            raise InvalidInput(
                f"expires_in: at most {cap} s (SDWAN_API_KEY_MAX_TTL)", field="expires_in"
            )
        expires = now() + timedelta(seconds=expires_in or cap)
        with unit_of_work(self._engine) as work:
            conn = work.conn
            token_id, token = tokens.issue(
                conn,
                name=name,
                kind=tokens.API_KEY,
                role=role,
                scope_project=project,
                user_id=principal.user_id,
                expires_at=expires,
                created_by=principal.name,
            )
            made = token_repo.get_token(conn, token_id=token_id)
            assert made is not None  # written just now, in this transaction
            audit.record(
                conn,
                principal,
                action="create",
                resource_type="token",
                resource_id=token_id,
                resource_name=name,
                project_id=project,
                after=token_public(made),
            )
        return IssuedKey(made, token)

    def require_project(self, name: str) -> None:  # provided by ProjectCalls
        raise NotImplementedError

    def list_tokens(self, principal: Principal, *, active: bool) -> list[TokenRecord]:
        owner = None if principal.is_admin else (principal.user_id, principal.token_id)
        with reading(self._engine) as conn:
            return token_repo.list_tokens(conn, owner=owner, active_at=now() if active else None)

    def revoke_token(self, principal: Principal, token_id: str) -> TokenRecord:
        with unit_of_work(self._engine) as work:
            conn = work.conn
            row = token_repo.get_token(conn, token_id=token_id)
            mine = row is not None and (
                row.id == principal.token_id
                or (principal.user_id is not None and row.user_id == principal.user_id)
            )
            if row is None or not (principal.is_admin or mine):
                raise NotFound(f"token {token_id!r} not found")
            revoked = row
            if row.revoked_at is None:  # revoking twice keeps the first time
                at = now()
                token_repo.revoke_token(conn, token_id=token_id, at=at)
                revoked = replace(row, revoked_at=at)
            audit.record(
                conn,
                principal,
                action="revoke",
                resource_type="token",
                resource_id=token_id,
                resource_name=row.name,
                project_id=row.scope_project or row.project_id,
                before=token_public(row),
                after=token_public(revoked),
            )
        return revoked
