"""Table definitions (SQLAlchemy Core). API schemas live apart, in sdwan.schemas."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect

metadata = MetaData()
# Row ids from a sequence: 64-bit on PostgreSQL (BIGSERIAL), SQLite's own INTEGER
# PRIMARY KEY (already 64-bit; the exact type name is what makes it the rowid)
SerialId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


routers = Table(
    "routers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("router_id", String(15), nullable=False),
    Column("asn", BigInteger, nullable=False),
    Column("api_address", String(255), nullable=False),
    Column("tls", Boolean, nullable=False, server_default=false(), default=False),  # 0011
    Column("tls_ca", Text, nullable=True),  # 0011
    Column("tls_server_name", String(253), nullable=True),  # 0011
    # "repair" or "report" (0003)
    Column("drift_mode", String(8), nullable=False, server_default="repair", default="repair"),
    Column("listen_port", Integer, nullable=False),
    Column("listen_addresses", JSON, nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("status_detail", Text, nullable=False),
    # what the reconciler knows, Kubernetes-style (domain/conditions.py; 0015)
    Column("conditions", JSON, nullable=False, server_default="[]"),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

neighbors = Table(
    "neighbors",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("router_uuid", String(36), ForeignKey("routers.id"), nullable=False, index=True),
    Column("address", String(45), nullable=False),
    Column("peer_asn", BigInteger, nullable=False),
    Column("description", Text, nullable=False),
    Column("local_address", String(45), nullable=True),
    Column("hold_time", Integer, nullable=False),
    Column("keepalive_interval", Integer, nullable=False),
    Column("passive", Boolean, nullable=False),
    Column("ebgp_multihop_ttl", Integer, nullable=False),
    Column("password_sealed", LargeBinary, nullable=True),
    Column("route_reflector_client", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("families", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("status_detail", Text, nullable=False),
    # what the reconciler knows, Kubernetes-style (domain/conditions.py; 0015)
    Column("conditions", JSON, nullable=False, server_default="[]"),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("router_uuid", "address", name="uq_neighbor_router_address"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(63), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("project_id", String(64), nullable=True),  # None: all projects (admin)
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    # migration 0004 (identity): login sessions and user-bound API keys
    Column("kind", String(16), nullable=False, server_default="api_key"),  # or "session"
    Column("user_id", String(36), nullable=True),  # bound to a user's role assignment
    Column("scope_project", String(64), nullable=True),  # the project it was issued for
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("created_by", String(63), nullable=True),
)
