"""Routers, neighbors and API tokens.

Revision ID: 0001_initial
Revises:
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None


def _timestamps() -> list[sa.Column[datetime]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "routers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("router_id", sa.String(15), nullable=False),
        sa.Column("asn", sa.BigInteger, nullable=False),
        sa.Column("api_address", sa.String(255), nullable=False),
        sa.Column("listen_port", sa.Integer, nullable=False),
        sa.Column("listen_addresses", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("status_detail", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "neighbors",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "router_uuid", sa.String(36), sa.ForeignKey("routers.id"), nullable=False, index=True
        ),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("peer_asn", sa.BigInteger, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("local_address", sa.String(45), nullable=True),
        sa.Column("hold_time", sa.Integer, nullable=False),
        sa.Column("keepalive_interval", sa.Integer, nullable=False),
        sa.Column("passive", sa.Boolean, nullable=False),
        sa.Column("ebgp_multihop_ttl", sa.Integer, nullable=False),
        sa.Column("password_sealed", sa.LargeBinary, nullable=True),
        sa.Column("route_reflector_client", sa.Boolean, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("families", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("status_detail", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("router_uuid", "address", name="uq_neighbor_router_address"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("neighbors")
    op.drop_table("routers")
