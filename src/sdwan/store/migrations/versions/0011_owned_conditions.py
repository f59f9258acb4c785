"""Conditions on the rows a router owns (defined sets, policies, policy attachments,
announcements), as on routers and neighbors (0010_conditions): a JSON list of [type, status,
reason, message, since, observed_version] arrays (domain/conditions.py). Rows from
before start with none.

Revision ID: 0011_owned_conditions
Revises: 0010_conditions
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_owned_conditions"
down_revision = "0010_conditions"

TABLES = ("defined_sets", "policies", "policy_attachments", "announcements")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("conditions", sa.JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("conditions")
