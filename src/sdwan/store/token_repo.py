"""Data access for bearer tokens (sessions and API keys; only their SHA-256 is
stored): typed records, keyword-only arguments; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from sdwan.store.records import record_of
from sdwan.store.tables import api_tokens


@dataclass(frozen=True)
class TokenRecord:
    id: str
    name: str
    token_sha256: str
    role: str
    project_id: str | None  # None: all projects (admin)
    created_at: datetime
    revoked_at: datetime | None
    kind: str  # session | api_key
    user_id: str | None  # bound to this user's role assignment
    scope_project: str | None  # the project it was issued for
    expires_at: datetime | None
    created_by: str | None


def insert_token(conn: Connection, *, token: TokenRecord) -> None:
    conn.execute(insert(api_tokens).values(asdict(token)))


def get_token(conn: Connection, *, token_id: str) -> TokenRecord | None:
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).mappings().first()
    return None if row is None else record_of(TokenRecord, row)


def token_by_hash(conn: Connection, *, digest: str) -> TokenRecord | None:
    query = select(api_tokens).where(api_tokens.c.token_sha256 == digest)
    row = conn.execute(query).mappings().first()
    return None if row is None else record_of(TokenRecord, row)


def any_token(conn: Connection) -> bool:
    return conn.execute(select(api_tokens.c.id).limit(1)).first() is not None


def list_tokens(
    conn: Connection,
    *,
    owner: tuple[str | None, str | None] | None,
    active_at: datetime | None,
) -> list[TokenRecord]:
    """Oldest first. ``owner`` None: every token; (user id, token id): the user's
    tokens, or with no user only that token. ``active_at``: only those neither revoked
    nor expired then."""
    query = select(api_tokens).order_by(api_tokens.c.created_at)
    if owner is not None:
        user_id, token_id = owner
        if user_id is None:
            query = query.where(api_tokens.c.id == token_id)
        else:
            query = query.where(api_tokens.c.user_id == user_id)
    if active_at is not None:
        query = query.where(
            api_tokens.c.revoked_at.is_(None),
            (api_tokens.c.expires_at.is_(None)) | (api_tokens.c.expires_at > active_at),
        )
    return [record_of(TokenRecord, row) for row in conn.execute(query).mappings()]


def revoke_token(conn: Connection, *, token_id: str, at: datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=at))


def revoke_user_tokens(
    conn: Connection, *, user_id: str, kinds: Sequence[str] | None, at: datetime
) -> None:
    """Revoke the user's live tokens (only those of ``kinds`` when given)."""
    where = [api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None)]
    if kinds is not None:
        where.append(api_tokens.c.kind.in_(list(kinds)))
    conn.execute(update(api_tokens).where(*where).values(revoked_at=at))


def revoke_free_tokens(conn: Connection, *, name: str, created_by: str, at: datetime) -> None:
    """Revoke the live tokens of that name and maker bound to no user (bootstrap ones)."""
    conn.execute(
        update(api_tokens)
        .where(
            api_tokens.c.name == name,
            api_tokens.c.created_by == created_by,
            api_tokens.c.user_id.is_(None),
            api_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )
