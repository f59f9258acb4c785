"""The BGP identifier a neighbor's peer sent in its OPEN, kept with the live session
while it is Established (null otherwise, and for rows from before until their
session is next observed up).

Revision ID: 0016_remote_router_id
Revises: 0014_revisions
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_remote_router_id"
down_revision = "0015_rollouts"


def upgrade() -> None:
    with op.batch_alter_table("neighbor_live") as batch:
        batch.add_column(sa.Column("remote_router_id", sa.String(15), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("neighbor_live") as batch:
        batch.drop_column("remote_router_id")
