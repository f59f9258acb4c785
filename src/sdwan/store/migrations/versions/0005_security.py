"""Security hardening: a project's own allowlist of gobgpd API addresses.

Revision ID: 0005_security
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_security"
down_revision = "0004"
branch_labels = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        # null: only the server's allowlist applies
        batch.add_column(sa.Column("api_address_allow", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("api_address_allow")
