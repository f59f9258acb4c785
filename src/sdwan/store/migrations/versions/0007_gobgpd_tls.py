"""gRPC to gobgpd over TLS: per router, whether to use it, the CA to trust and the
name on gobgpd's certificate.

Revision ID: 0007_gobgpd_tls
Revises: 0006_security
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_gobgpd_tls"
down_revision = "0006_security"


def upgrade() -> None:
    with op.batch_alter_table("routers") as batch:
        batch.add_column(sa.Column("tls", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("tls_ca", sa.Text, nullable=True))
        batch.add_column(sa.Column("tls_server_name", sa.String(253), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routers") as batch:
        batch.drop_column("tls_server_name")
        batch.drop_column("tls_ca")
        batch.drop_column("tls")
