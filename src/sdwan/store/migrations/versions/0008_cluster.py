"""Replicas on one database: the secrets' key check, replicas and their heartbeats,
router leases with fencing tokens.

Revision ID: 0008_cluster
Revises: 0007_gobgpd_tls
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_cluster"
down_revision = "0007_gobgpd_tls"


def upgrade() -> None:
    op.create_table(
        "sdwan_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "replicas",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("instance", sa.String(36), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "router_leases",
        sa.Column(
            "router_uuid",
            sa.String(36),
            sa.ForeignKey("routers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("holder", sa.String(36), nullable=True, index=True),
        sa.Column("holder_name", sa.String(255), nullable=True),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("router_leases")
    op.drop_table("replicas")
    op.drop_table("sdwan_settings")
