"""Security hardening: a project's own allowlist of gobgpd API addresses.

Revision ID: 0006_security
Revises: 0005_audit_lookup
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_security"
down_revision = "0005_audit_lookup"


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        # null: only the server's allowlist applies
        batch.add_column(sa.Column("api_address_allow", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("api_address_allow")
