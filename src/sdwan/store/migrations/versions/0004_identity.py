"""Identity: projects, users, role assignments, session tokens; the audit log.

Revision ID: 0004_identity
Revises: 0003_live_state
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004_identity"
down_revision = "0003_live_state"


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(
        projects,
        [{"name": "default", "description": "created at install", "created_at": datetime.now(UTC)}],
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "role_assignments",
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "project",
            sa.String(64),
            sa.ForeignKey("projects.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="api_key"))
        batch.add_column(sa.Column("user_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("scope_project", sa.String(64), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("created_by", sa.String(63), nullable=True))
    op.create_table(
        "audit_log",
        # 64-bit on PostgreSQL; SQLite's rowid (INTEGER PRIMARY KEY) as before
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.String(63), nullable=False, index=True),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=True, index=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False, index=True),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("resource_name", sa.String(255), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    with op.batch_alter_table("api_tokens") as batch:
        for name in ("created_by", "expires_at", "scope_project", "user_id", "kind"):
            batch.drop_column(name)
    op.drop_table("role_assignments")
    op.drop_table("users")
    op.drop_table("projects")
