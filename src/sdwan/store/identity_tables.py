"""Identity and audit tables (migration 0004): projects, users, role assignments, the
audit log. Tokens live in ``tables.api_tokens`` (0004 adds its session columns)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text

from sdwan.store.tables import SerialId, UtcDateTime, metadata

projects = Table(
    "projects",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("description", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # migration 0006: which gobgpd API addresses its routers may use (null: the server's)
    Column("api_address_allow", JSON, nullable=True),
    # migration 0013: the addresses its webhooks may post to (null: the server's list)
    Column("webhook_allow", JSON, nullable=True),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

role_assignments = Table(
    "role_assignments",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "project", String(64), ForeignKey("projects.name", ondelete="CASCADE"), primary_key=True
    ),
    Column("role", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", SerialId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
    Column("actor", String(63), nullable=False, index=True),
    Column("actor_role", String(16), nullable=False),
    Column("source", String(64), nullable=False),  # client address
    Column("project_id", String(64), nullable=True, index=True),  # None: global objects
    Column("action", String(32), nullable=False),
    Column("resource_type", String(32), nullable=False, index=True),
    Column("resource_id", String(64), nullable=False),
    Column("resource_name", String(255), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Index("ix_audit_log_resource", "resource_type", "resource_id", "id"),  # migration 0005
)
