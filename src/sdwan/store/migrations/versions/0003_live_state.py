"""Live state: neighbor sessions, gobgpd reachability, events; routers.drift_mode.

Revision ID: 0003_live_state
Revises: 0002_policy
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_live_state"
down_revision = "0002_policy"


def upgrade() -> None:
    op.add_column(
        "routers", sa.Column("drift_mode", sa.String(8), nullable=False, server_default="repair")
    )
    op.create_table(
        "neighbor_live",
        sa.Column(
            "neighbor_id",
            sa.String(36),
            sa.ForeignKey("neighbors.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("router_uuid", sa.String(36), nullable=False, index=True),
        sa.Column("session_state", sa.String(12), nullable=False),
        sa.Column("admin_down", sa.Boolean, nullable=False),
        sa.Column("established_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_down_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_down_reason", sa.Text, nullable=False),
        sa.Column("flap_count", sa.Integer, nullable=False),
        sa.Column("prefixes_received", sa.BigInteger, nullable=True),
        sa.Column("prefixes_accepted", sa.BigInteger, nullable=True),
        sa.Column("prefixes_advertised", sa.BigInteger, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "router_live",
        sa.Column(
            "router_uuid",
            sa.String(36),
            sa.ForeignKey("routers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("reachable", sa.Boolean, nullable=False),
        sa.Column("reachable_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gobgpd_up_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("drift", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "events",
        # 64-bit on PostgreSQL; SQLite's rowid (INTEGER PRIMARY KEY) as before
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(36), nullable=False),
        sa.Column("router_name", sa.String(63), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("router_live")
    op.drop_table("neighbor_live")
    with op.batch_alter_table("routers") as batch:
        batch.drop_column("drift_mode")
