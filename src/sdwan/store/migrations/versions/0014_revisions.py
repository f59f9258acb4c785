"""The revision log: every committed change to the desired state, numbered, with
author, time, message, source and each object's state before and after.

Revision ID: 0014_revisions
Revises: 0013_alerts
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_revisions"
down_revision = "0013_alerts"

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "revisions",
        sa.Column("number", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("author", sa.String(63), nullable=False, index=True),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("rollback_of", sa.Integer, nullable=True),
        sa.Column("change_count", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "revision_changes",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column(
            "revision",
            _SERIAL,
            sa.ForeignKey("revisions.number", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("router_id", sa.String(36), nullable=True, index=True),
        sa.Column("site_id", sa.String(36), nullable=True, index=True),
        sa.Column("project_id", sa.String(64), nullable=True, index=True),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
        sa.Column("sealed", sa.JSON, nullable=True),
    )
    op.create_index(
        "ix_revision_changes_object", "revision_changes", ["kind", "object_id", "revision"]
    )


def downgrade() -> None:
    op.drop_table("revision_changes")
    op.drop_table("revisions")
