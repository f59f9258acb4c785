"""Conditions on routers and neighbors: what the reconciler knows about each, as a
JSON list of [type, status, reason, message, since, observed_version] arrays
(domain/conditions.py). Rows from before start with none.

Revision ID: 0010_conditions
Revises: 0009_intent
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_conditions"
down_revision = "0009_intent"


def upgrade() -> None:
    for table in ("routers", "neighbors"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("conditions", sa.JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    for table in ("routers", "neighbors"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("conditions")
