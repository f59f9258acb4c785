"""Rollouts: a change applied router by router in waves, each gated by a health
check, rolled back as a whole when a gate fails or a confirmation does not come.

Revision ID: 0015_rollouts
Revises: 0014_revisions
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_rollouts"
down_revision = "0014_revisions"

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=True, index=True),
        sa.Column("author", sa.String(63), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("stages", sa.JSON, nullable=False),
        sa.Column("waves", sa.JSON, nullable=False),
        sa.Column("sites", sa.JSON, nullable=False),
        sa.Column("wave", sa.Integer, nullable=False),
        sa.Column("base_revision", sa.Integer, nullable=False),
        sa.Column("wave_revisions", sa.JSON, nullable=False),
        sa.Column("rollback_revision", sa.Integer, nullable=True),
        sa.Column("document", sa.JSON, nullable=True),
        sa.Column("prune", sa.Boolean, nullable=False),
        sa.Column("gate_timeout", sa.Float, nullable=False),
        sa.Column("confirm_within", sa.Float, nullable=True),
        sa.Column("confirm_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gate_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("baseline", sa.JSON, nullable=True),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("failures", sa.JSON, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("rollouts")
