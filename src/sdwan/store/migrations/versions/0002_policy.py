"""Routing policy: defined sets, policies, attachments, announcements.

Revision ID: 0002_policy
Revises: 0001_initial
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_policy"
down_revision = "0001_initial"


def _common() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "router_uuid", sa.String(36), sa.ForeignKey("routers.id"), nullable=False, index=True
        ),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_detail", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "defined_sets",
        *_common(),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("set_type", sa.String(20), nullable=False),
        sa.Column("members", sa.JSON, nullable=False),
        sa.UniqueConstraint("router_uuid", "name", name="uq_defined_set_name"),
    )
    op.create_table(
        "policies",
        *_common(),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("statements", sa.JSON, nullable=False),
        sa.UniqueConstraint("router_uuid", "name", name="uq_policy_name"),
    )
    op.create_table(
        "policy_attachments",
        *_common(),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("policies", sa.JSON, nullable=False),
        sa.Column("default_action", sa.String(8), nullable=False),
        sa.Column("neighbors", sa.JSON, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.UniqueConstraint("router_uuid", "name", name="uq_attachment_name"),
    )
    op.create_table(
        "announcements",
        *_common(),
        sa.Column("prefix", sa.String(49), nullable=False),
        sa.Column("next_hop", sa.String(45), nullable=True),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("med", sa.BigInteger, nullable=True),
        sa.Column("local_pref", sa.BigInteger, nullable=True),
        sa.Column("communities", sa.JSON, nullable=False),
        sa.Column("large_communities", sa.JSON, nullable=False),
        sa.Column("as_path_prepend", sa.Integer, nullable=False),
        sa.UniqueConstraint("router_uuid", "prefix", name="uq_announcement_prefix"),
    )
    op.create_table(
        "policyinfos",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "router_uuid", sa.String(36), sa.ForeignKey("routers.id"), nullable=False, index=True
        ),
        sa.Column("policy_name", sa.String(63), nullable=False),
        sa.Column("statement_name", sa.String(63), nullable=False),
        sa.Column("statement_action", sa.String(80), nullable=False),
        sa.Column("route_disposition", sa.String(8), nullable=False),
        sa.Column("apply_direction", sa.String(8), nullable=False),
        sa.Column("apply_neighbor", sa.String(45), nullable=False),
        sa.Column("exist", sa.String(10), nullable=False),
        sa.Column("attachment_name", sa.String(63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "router_uuid", "policy_name", "apply_direction", "apply_neighbor", name="uq_policyinfo"
        ),
    )


def downgrade() -> None:
    for table in ("policyinfos", "announcements", "policy_attachments", "policies", "defined_sets"):
        op.drop_table(table)
