"""Tables of observed state (not desired state): live BGP sessions, gobgpd
reachability and the event history. None of it counts in a resource's ``version``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from sdwan.store.tables import SerialId, UtcDateTime, metadata

neighbor_live = Table(
    "neighbor_live",
    metadata,
    Column(
        "neighbor_id",
        String(36),
        ForeignKey("neighbors.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("router_uuid", String(36), nullable=False, index=True),
    Column("session_state", String(12), nullable=False),  # IDLE .. ESTABLISHED, UNKNOWN
    Column("admin_down", Boolean, nullable=False),
    Column("established_at", UtcDateTime(), nullable=True),  # since when ESTABLISHED
    Column("state_since", UtcDateTime(), nullable=False),  # since when in this state
    Column("last_down_at", UtcDateTime(), nullable=True),
    Column("last_down_reason", Text, nullable=False),
    Column("flap_count", Integer, nullable=False),  # ESTABLISHED -> anything else, seen by us
    Column("prefixes_received", BigInteger, nullable=True),
    Column("prefixes_accepted", BigInteger, nullable=True),
    Column("prefixes_advertised", BigInteger, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("remote_router_id", String(15), nullable=True),  # BGP identifier, while Established
)

router_live = Table(
    "router_live",
    metadata,
    Column(
        "router_uuid", String(36), ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("reachable", Boolean, nullable=False),
    Column("reachable_since", UtcDateTime(), nullable=False),  # since the last change
    Column("gobgpd_up_since", UtcDateTime(), nullable=True),  # this gobgpd instance answering
    Column("last_error", Text, nullable=False),
    Column("drift", JSON, nullable=False),  # differences found on the last read-back
    Column("updated_at", UtcDateTime(), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", SerialId, primary_key=True, autoincrement=True),
    Column("time", UtcDateTime(), nullable=False, index=True),
    Column("kind", String(32), nullable=False, index=True),
    Column("resource_type", String(32), nullable=False),
    Column("resource_id", String(36), nullable=False),
    Column("router_name", String(63), nullable=False),
    Column("project_id", String(64), nullable=True),
    Column("message", Text, nullable=False),
    Column("data", JSON, nullable=False),
)
