"""Tables of the SD-WAN intent model (migration 0009): sites and their routers,
uplinks, path intents, and the verification state of each intent (observed, not
desired: never part of an intent's ``version``). The policy objects an intent compiles
into are ordinary rows of the policy tables, marked by ``generated_by``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from sdwan.store.tables import UtcDateTime, metadata


def _stamps() -> list[Column]:  # type: ignore[type-arg]
    return [
        Column("description", Text, nullable=False),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
    ]


sites = Table(
    "sites",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("prefixes", JSON, nullable=False),
    Column("next_hop_self", Boolean, nullable=False),
    *_stamps(),
)

site_routers = Table(
    "site_routers",
    metadata,
    Column("site_id", String(36), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column(
        "router_uuid",
        String(36),
        ForeignKey("routers.id", ondelete="CASCADE"),
        primary_key=True,  # a router is in one site at most
    ),
    Column("position", Integer, nullable=False),
    Column("fib_agent", String(270), nullable=True),
    Column("probe_agent", String(270), nullable=True),  # migration 0012_path_quality
)

uplinks = Table(
    "uplinks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "site_id",
        String(36),
        ForeignKey("sites.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(63), nullable=False),
    Column("router_uuid", String(36), nullable=False, index=True),
    Column("neighbor_address", String(45), nullable=False),
    Column("transport", String(16), nullable=False),
    Column("cost", Integer, nullable=False),
    Column("bandwidth_mbps", Integer, nullable=True),
    Column("probe", JSON, nullable=False, server_default="{}"),  # probe_plan.ProbeSettings
    *_stamps(),
    UniqueConstraint("site_id", "name", name="uq_uplink_name"),
    UniqueConstraint("router_uuid", "neighbor_address", name="uq_uplink_neighbor"),
)

intents = Table(
    "intents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "site_id",
        String(36),
        ForeignKey("sites.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(63), nullable=False),
    Column("destination", JSON, nullable=False),  # canonical; a site by id: {"site_id": ...}
    Column("prefer", JSON, nullable=False),  # tiers of uplink names, or "cost"
    Column("return_path", JSON, nullable=False),
    Column(  # the SLA class it steers on (0012_path_quality); deleting one in use: refused
        "sla_class_id",
        String(36),
        ForeignKey("sla_classes.id", ondelete="RESTRICT"),
        nullable=True,
        index=True,
    ),
    *_stamps(),
    UniqueConstraint("site_id", "name", name="uq_intent_name"),
)

intent_state = Table(
    "intent_state",
    metadata,
    Column("intent_id", String(36), ForeignKey("intents.id", ondelete="CASCADE"), primary_key=True),
    Column("intent_version", Integer, nullable=False),  # the version it checked
    Column("verdict", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("since", UtcDateTime(), nullable=False),  # since when this verdict holds
    Column("checked_at", UtcDateTime(), nullable=False),
    Column("paths", JSON, nullable=False),  # the last check, path by path
)

INTENT_TABLES = (sites, site_routers, uplinks, intents)  # desired state (copied by dry runs)
