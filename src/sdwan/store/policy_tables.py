"""Tables of the routing-policy model, all owned by a router: defined sets, policies,
policy attachments, announcements, and the original's policyinfo records."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from sdwan.store.tables import UtcDateTime, metadata


def _common() -> list[Column]:  # type: ignore[type-arg]
    return [
        Column("id", String(36), primary_key=True),
        Column("router_uuid", String(36), ForeignKey("routers.id"), nullable=False, index=True),
        Column("description", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("status_detail", Text, nullable=False),
        # what the reconciler knows, Kubernetes-style (domain/conditions.py; 0016)
        Column("conditions", JSON, nullable=False, server_default="[]"),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
    ]


def _generated_by() -> Column:  # type: ignore[type-arg]
    """Set on objects an intent or a site compiled (migration 0009): "intent:<id>" or
    "site:<id>"; read-only through the API. Null: hand-written."""
    return Column("generated_by", String(80), nullable=True)


defined_sets = Table(
    "defined_sets",
    metadata,
    *_common(),
    Column("name", String(63), nullable=False),
    Column("set_type", String(20), nullable=False),
    Column("members", JSON, nullable=False),
    _generated_by(),
    UniqueConstraint("router_uuid", "name", name="uq_defined_set_name"),
)

policies = Table(
    "policies",
    metadata,
    *_common(),
    Column("name", String(63), nullable=False),
    Column("statements", JSON, nullable=False),
    _generated_by(),
    UniqueConstraint("router_uuid", "name", name="uq_policy_name"),
)

policy_attachments = Table(
    "policy_attachments",
    metadata,
    *_common(),
    Column("name", String(63), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("policies", JSON, nullable=False),
    Column("default_action", String(8), nullable=False),
    Column("neighbors", JSON, nullable=False),
    Column("priority", Integer, nullable=False),
    _generated_by(),
    UniqueConstraint("router_uuid", "name", name="uq_attachment_name"),
)

announcements = Table(
    "announcements",
    metadata,
    *_common(),
    Column("prefix", String(49), nullable=False),
    Column("next_hop", String(45), nullable=True),
    Column("origin", String(12), nullable=False),
    Column("med", BigInteger, nullable=True),
    Column("local_pref", BigInteger, nullable=True),
    Column("communities", JSON, nullable=False),
    Column("large_communities", JSON, nullable=False),
    Column("as_path_prepend", Integer, nullable=False),
    UniqueConstraint("router_uuid", "prefix", name="uq_announcement_prefix"),
)

policyinfos = Table(
    "policyinfos",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("router_uuid", String(36), ForeignKey("routers.id"), nullable=False, index=True),
    Column("policy_name", String(63), nullable=False),
    Column("statement_name", String(63), nullable=False),
    Column("statement_action", String(80), nullable=False),
    Column("route_disposition", String(8), nullable=False),
    Column("apply_direction", String(8), nullable=False),
    Column("apply_neighbor", String(45), nullable=False),
    Column("exist", String(10), nullable=False),
    Column("attachment_name", String(63), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint(
        "router_uuid", "policy_name", "apply_direction", "apply_neighbor", name="uq_policyinfo"
    ),
)

# the objects a router owns, in an order safe for deletion (referrers first)
POLICY_TABLES = (policyinfos, policy_attachments, announcements, policies, defined_sets)
