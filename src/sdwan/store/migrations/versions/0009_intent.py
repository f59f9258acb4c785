"""SD-WAN intent: sites, site routers, uplinks, intents, their verification state, and
``generated_by`` on the policy objects intents compile into.

Revision ID: 0009_intent
Revises: 0008_cluster
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009_intent"
down_revision = "0008_cluster"

_GENERATED = ("defined_sets", "policies", "policy_attachments")


def _stamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _site_id() -> sa.Column[str]:
    return sa.Column(
        "site_id",
        sa.String(36),
        sa.ForeignKey("sites.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade() -> None:
    for table in _GENERATED:
        with op.batch_alter_table(table) as batch:
            # "intent:<id>" or "site:<id>": read-only through the API, owned by that object
            batch.add_column(sa.Column("generated_by", sa.String(80), nullable=True))
    op.create_table(
        "sites",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("prefixes", sa.JSON, nullable=False),
        sa.Column("next_hop_self", sa.Boolean, nullable=False),
        *_stamps(),
    )
    op.create_table(
        "site_routers",
        sa.Column(
            "site_id", sa.String(36), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "router_uuid",
            sa.String(36),
            sa.ForeignKey("routers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("fib_agent", sa.String(270), nullable=True),
    )
    op.create_table(
        "uplinks",
        sa.Column("id", sa.String(36), primary_key=True),
        _site_id(),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("router_uuid", sa.String(36), nullable=False, index=True),
        sa.Column("neighbor_address", sa.String(45), nullable=False),
        sa.Column("transport", sa.String(16), nullable=False),
        sa.Column("cost", sa.Integer, nullable=False),
        sa.Column("bandwidth_mbps", sa.Integer, nullable=True),
        *_stamps(),
        sa.UniqueConstraint("site_id", "name", name="uq_uplink_name"),
        sa.UniqueConstraint("router_uuid", "neighbor_address", name="uq_uplink_neighbor"),
    )
    op.create_table(
        "intents",
        sa.Column("id", sa.String(36), primary_key=True),
        _site_id(),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("destination", sa.JSON, nullable=False),
        sa.Column("prefer", sa.JSON, nullable=False),
        sa.Column("return_path", sa.JSON, nullable=False),
        *_stamps(),
        sa.UniqueConstraint("site_id", "name", name="uq_intent_name"),
    )
    op.create_table(
        "intent_state",
        sa.Column(
            "intent_id",
            sa.String(36),
            sa.ForeignKey("intents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("intent_version", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paths", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for name in ("intent_state", "intents", "uplinks", "site_routers", "sites"):
        op.drop_table(name)
    for table in _GENERATED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("generated_by")
