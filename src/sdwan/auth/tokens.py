"""Bearer tokens: random, shown once, stored as SHA-256 (they carry 256 bits of
entropy, so a slow password hash adds nothing), compared by hash lookup.

Two kinds share the table: ``session`` tokens from ``POST /v1/auth/login`` (they
expire) and ``api_key`` tokens for automation (the bootstrap admin token is one). A
token bound to a user is re-checked against the user's current role assignment on
every request: removing the role or the user cuts its tokens off at once, and a
demotion applies immediately (the weaker of the token's and the assignment's role)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select

from sdwan.auth.principal import Principal, Role, weaker
from sdwan.errors import NotAuthenticated
from sdwan.store.identity_tables import role_assignments, users
from sdwan.store.repo import new_id, now
from sdwan.store.tables import api_tokens

TOKEN_PREFIX = "sdwan_"
BOOTSTRAP_NAME = "bootstrap-admin"
SESSION = "session"
API_KEY = "api_key"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def issue(
    conn: Connection,
    *,
    name: str,
    kind: str,
    role: Role,
    scope_project: str | None,
    user_id: str | None,
    expires_at: datetime | None,
    created_by: str,
) -> tuple[str, str]:
    """Store a new token's hash; returns (token id, the token itself, shown once)."""
    token, token_id = generate_token(), new_id()
    conn.execute(
        insert(api_tokens).values(
            id=token_id,
            name=name,
            token_sha256=hash_token(token),
            role=role,
            project_id=None if role == Role.ADMIN else scope_project,
            scope_project=scope_project,
            kind=kind,
            user_id=user_id,
            expires_at=expires_at,
            created_by=created_by,
            created_at=now(),
        )
    )
    return token_id, token


class TokenAuthenticator:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def authenticate(self, token: str, *, source: str = "") -> Principal:
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(api_tokens).where(api_tokens.c.token_sha256 == hash_token(token))
                )
                .mappings()
                .first()
            )
            if row is None or row["revoked_at"] is not None:
                raise NotAuthenticated("invalid or revoked token")
            if row["expires_at"] is not None and row["expires_at"] <= now():
                raise NotAuthenticated("token expired: log in again")
            role = Role(row["role"])
            name = row["name"]
            if row["user_id"] is not None:
                bound = conn.execute(
                    select(users.c.name, role_assignments.c.role)
                    .join(role_assignments, role_assignments.c.user_id == users.c.id)
                    .where(
                        users.c.id == row["user_id"],
                        role_assignments.c.project == row["scope_project"],
                    )
                ).first()
                if bound is None:
                    raise NotAuthenticated(
                        "token no longer valid: its user or role assignment was removed"
                    )
                role = weaker(role, Role(bound.role))
                name = bound.name
        return Principal(
            name=name,
            role=role,
            project_id=None if role == Role.ADMIN else (row["scope_project"] or row["project_id"]),
            user_id=row["user_id"],
            token_id=row["id"],
            source=source,
        )

    def ensure_bootstrap(self, configured: str | None) -> str | None:
        """Store SDWAN_ADMIN_TOKEN's hash, or at first start generate an admin token.
        Returns a newly generated token (to print once), else None."""
        with self._engine.begin() as conn:
            if configured:
                digest = hash_token(configured)
                known = conn.execute(
                    select(api_tokens.c.id).where(api_tokens.c.token_sha256 == digest)
                ).first()
                if known is None:
                    conn.execute(
                        insert(api_tokens).values(
                            id=new_id(),
                            name=BOOTSTRAP_NAME,
                            token_sha256=digest,
                            role=Role.ADMIN,
                            project_id=None,
                            kind=API_KEY,
                            created_by="sdwan serve",
                            created_at=now(),
                        )
                    )
                return None
            if conn.execute(select(api_tokens.c.id).limit(1)).first() is not None:
                return None
            _token_id, token = issue(
                conn,
                name=BOOTSTRAP_NAME,
                kind=API_KEY,
                role=Role.ADMIN,
                scope_project=None,
                user_id=None,
                expires_at=None,
                created_by="sdwan serve",
            )
            return token
