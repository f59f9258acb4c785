"""Bearer tokens: random, shown once, stored as SHA-256 (they carry 256 bits of
entropy, so a slow password hash adds nothing), compared by hash lookup.

Two kinds share the table: ``session`` tokens from ``POST /v1/auth/login`` (they
expire) and ``api_key`` tokens for automation (the bootstrap admin token is one). A
token bound to a user is re-checked against the user's current role assignment on
every request: removing the role or the user cuts its tokens off at once, and a
demotion applies immediately (the weaker of the token's and the assignment's role).
Only the bootstrap token is bound to no user."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal, Role, weaker
from sdwan.errors import NotAuthenticated
from sdwan.store import identity_repo, token_repo
from sdwan.store.db import BOOTSTRAP_LOCK, one_at_a_time
from sdwan.store.repo import new_id, now
from sdwan.store.token_repo import TokenRecord

TOKEN_PREFIX = "sdwan_"
BOOTSTRAP_NAME = "bootstrap-admin"
BOOTSTRAP_CREATOR = "sdwan serve"
MIN_BOOTSTRAP_LENGTH = 32
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
    token: str | None = None,
) -> tuple[str, str]:
    """Store a new token's hash (``token``'s, or a generated one's); returns (token id,
    the token itself, shown once)."""
    token, token_id = token or generate_token(), new_id()
    record = TokenRecord(
        id=token_id,
        name=name,
        token_sha256=hash_token(token),
        role=role,
        project_id=None if role == Role.ADMIN else scope_project,
        created_at=now(),
        revoked_at=None,
        kind=kind,
        user_id=user_id,
        scope_project=scope_project,
        expires_at=expires_at,
        created_by=created_by,
    )
    token_repo.insert_token(conn, token=record)
    return token_id, token


def _bound(conn: Connection, row: TokenRecord, user_id: str, role: Role) -> tuple[str, Role]:
    """The name and role of a token bound to a user, as of now: never more than the
    user may do today. A session or key issued for a project where the user has a
    role gets the weaker of the two; an admin's key for another project or role
    holds while the user is still an admin somewhere; nothing else holds."""
    assigned = identity_repo.list_roles(conn, user_id=user_id)
    here = [a for a in assigned if a.project == row.scope_project]
    if here:
        return here[0].user, weaker(role, Role(here[0].role))
    if row.kind == API_KEY and any(a.role == Role.ADMIN for a in assigned):
        return assigned[0].user, role
    raise NotAuthenticated("token no longer valid: its user or role assignment was removed")


class TokenAuthenticator:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def authenticate(self, token: str, *, source: str = "") -> Principal:
        with self._engine.connect() as conn:
            row = token_repo.token_by_hash(conn, digest=hash_token(token))
            if row is None or row.revoked_at is not None:
                raise NotAuthenticated("invalid or revoked token")
            if row.expires_at is not None and row.expires_at <= now():
                raise NotAuthenticated("token expired: log in again")
            role = Role(row.role)
            name = row.name
            if row.user_id is not None:
                name, role = _bound(conn, row, row.user_id, role)
        return Principal(
            name=name,
            role=role,
            project_id=None if role == Role.ADMIN else (row.scope_project or row.project_id),
            user_id=row.user_id,
            token_id=row.id,
            source=source,
        )

    def ensure_bootstrap(self, configured: str | None) -> str | None:
        """Store SDWAN_ADMIN_TOKEN's hash, or at first start generate an admin token.
        A configured token that changed revokes the bootstrap tokens before it (a
        leaked one stops working once it is replaced). Returns a newly generated
        token (to print once), else None."""
        with self._engine.begin() as conn:
            one_at_a_time(conn, BOOTSTRAP_LOCK)  # replicas starting together: one inserts
            if configured:
                if token_repo.token_by_hash(conn, digest=hash_token(configured)) is None:
                    token_repo.revoke_free_tokens(
                        conn, name=BOOTSTRAP_NAME, created_by=BOOTSTRAP_CREATOR, at=now()
                    )
                    _issue_bootstrap(conn, configured)
                return None
            if token_repo.any_token(conn):
                return None
            return _issue_bootstrap(conn, None)


def _issue_bootstrap(conn: Connection, token: str | None) -> str:
    """Store the admin API key the server starts with (``token``, or a generated one)."""
    _token_id, token = issue(
        conn,
        name=BOOTSTRAP_NAME,
        kind=API_KEY,
        role=Role.ADMIN,
        scope_project=None,
        user_id=None,
        expires_at=None,
        created_by=BOOTSTRAP_CREATOR,
        token=token,
    )
    return token


def check_bootstrap_token(token: str | None, *, dev_mode: bool) -> None:
    """SDWAN_ADMIN_TOKEN is an admin credential: at least 32 characters (the generated
    one has 43 random ones), unless SDWAN_DEV_MODE allows a short one."""
    if token is not None and len(token) < MIN_BOOTSTRAP_LENGTH and not dev_mode:
        raise ValueError(
            f"SDWAN_ADMIN_TOKEN must be at least {MIN_BOOTSTRAP_LENGTH} characters (it is an "
            "admin credential; e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe"
            "(32))'`), or unset to have one generated; SDWAN_DEV_MODE=1 allows a short one "
            "for development only"
        )
