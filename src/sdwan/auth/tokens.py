"""Bearer tokens: random, shown once, stored as SHA-256 (they carry 256 bits of
entropy, so a slow password hash adds nothing), compared by hash lookup."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Engine, insert, select

from sdwan.auth.principal import Principal, Role
from sdwan.errors import NotAuthenticated
from sdwan.store.repo import new_id, now
from sdwan.store.tables import api_tokens

TOKEN_PREFIX = "sdwan_"
BOOTSTRAP_NAME = "bootstrap-admin"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class TokenAuthenticator:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def authenticate(self, token: str) -> Principal:
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
        return Principal(name=row["name"], role=Role(row["role"]), project_id=row["project_id"])

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
                            created_at=now(),
                        )
                    )
                return None
            if conn.execute(select(api_tokens.c.id).limit(1)).first() is not None:
                return None
            token = generate_token()
            conn.execute(
                insert(api_tokens).values(
                    id=new_id(),
                    name=BOOTSTRAP_NAME,
                    token_sha256=hash_token(token),
                    role=Role.ADMIN,
                    project_id=None,
                    created_at=now(),
                )
            )
            return token
