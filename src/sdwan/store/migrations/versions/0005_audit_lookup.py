"""An index for "the last audit entry of this resource" (the ``before`` of an update):
without it, auditing a bulk change read the whole log once per item.

Revision ID: 0005_audit_lookup
Revises: 0004_identity
"""

from alembic import op

revision = "0005_audit_lookup"
down_revision = "0004_identity"


def upgrade() -> None:
    op.create_index("ix_audit_log_resource", "audit_log", ["resource_type", "resource_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_resource", table_name="audit_log")
