"""Path quality and SLA steering: SLA classes, an intent's class, how an uplink is
probed, a site router's probe agent, and the observed state (the latest quality of
each uplink, its downsampled history, each intent's steering state).

Revision ID: 0012_path_quality
Revises: 0011_owned_conditions
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_path_quality"
down_revision = "0011_owned_conditions"


def upgrade() -> None:
    op.create_table(
        "sla_classes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("loss_pct", sa.Float, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("jitter_ms", sa.Float, nullable=True),
        sa.Column("hold_down_s", sa.Float, nullable=False),
        sa.Column("min_interval_s", sa.Float, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_sla_class_name"),
    )
    with op.batch_alter_table("intents") as batch:
        batch.add_column(sa.Column("sla_class_id", sa.String(36), nullable=True))
        batch.create_index("ix_intents_sla_class_id", ["sla_class_id"])
        batch.create_foreign_key(
            "fk_intents_sla_class_id", "sla_classes", ["sla_class_id"], ["id"], ondelete="RESTRICT"
        )
    with op.batch_alter_table("uplinks") as batch:
        batch.add_column(sa.Column("probe", sa.JSON, nullable=False, server_default="{}"))
    with op.batch_alter_table("site_routers") as batch:
        batch.add_column(sa.Column("probe_agent", sa.String(270), nullable=True))
    op.create_table(
        "uplink_quality",
        sa.Column(
            "uplink_id",
            sa.String(36),
            sa.ForeignKey("uplinks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_address", sa.String(45), nullable=True),
        sa.Column("interface", sa.String(15), nullable=True),
        sa.Column("short", sa.JSON, nullable=False),
        sa.Column("long", sa.JSON, nullable=False),
        sa.Column("classes", sa.JSON, nullable=False),
        sa.Column("agent", sa.String(270), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "uplink_quality_history",
        sa.Column(
            "uplink_id",
            sa.String(36),
            sa.ForeignKey("uplinks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("resolution", sa.Integer, primary_key=True),
        sa.Column("bucket_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("reports", sa.Integer, nullable=False),
        sa.Column("loss_pct", sa.Float, nullable=True),
        sa.Column("loss_max_pct", sa.Float, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("latency_max_ms", sa.Float, nullable=True),
        sa.Column("jitter_ms", sa.Float, nullable=True),
        sa.Column("jitter_max_ms", sa.Float, nullable=True),
        sa.Column("dead_s", sa.Float, nullable=False),
    )
    op.create_table(
        "intent_steering",
        sa.Column(
            "intent_id",
            sa.String(36),
            sa.ForeignKey("intents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("intent_steering")
    op.drop_table("uplink_quality_history")
    op.drop_table("uplink_quality")
    with op.batch_alter_table("site_routers") as batch:
        batch.drop_column("probe_agent")
    with op.batch_alter_table("uplinks") as batch:
        batch.drop_column("probe")
    with op.batch_alter_table("intents") as batch:
        batch.drop_constraint("fk_intents_sla_class_id", type_="foreignkey")
        batch.drop_index("ix_intents_sla_class_id")
        batch.drop_column("sla_class_id")
    op.drop_table("sla_classes")
