"""Tables of the replicas' cluster (migration 0008): the key check of the sealed
secrets, the replicas with their heartbeats, and router leases with fencing tokens.

Used at runtime only on PostgreSQL (several replicas); with SQLite the one process
owns every router and the tables stay empty, apart from the key check."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table, Text

from sdwan.store.tables import UtcDateTime, metadata

settings_kv = Table(
    "sdwan_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

replicas = Table(
    "replicas",
    metadata,
    Column("name", String(255), primary_key=True),  # --replica-name (default host:port)
    Column("instance", String(36), nullable=False),  # this process: a restart is a new one
    Column("address", String(255), nullable=False),  # where it serves the API
    Column("version", String(32), nullable=False),  # sdwan's version
    Column("started_at", UtcDateTime(), nullable=False),
    Column("heartbeat_at", UtcDateTime(), nullable=False),  # the database's clock
)

router_leases = Table(
    "router_leases",
    metadata,
    Column(
        "router_uuid", String(36), ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("holder", String(36), nullable=True, index=True),  # replicas.instance; null: free
    Column("holder_name", String(255), nullable=True),  # replicas.name, for the API
    Column("token", BigInteger, nullable=False),  # fencing token: +1 at every acquisition
    Column("acquired_at", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=False),  # the database's clock
)
