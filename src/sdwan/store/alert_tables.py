"""Tables of alerting (migration 0013_alerts): alert rules and webhooks (desired
state, owned by a project), the alerts the rules raised (firing or resolved), each
hook's queue of deliveries still to make (``webhook_outbox``: a restart loses none)
and its delivery log (``webhook_deliveries``: one row per attempt, bounded by
retention). ``projects.webhook_allow`` (the addresses a project's hooks may post to)
is declared with the projects table."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from sdwan.store.tables import SerialId, UtcDateTime, metadata

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("name", String(63), nullable=False),
    Column("kind", String(24), nullable=False),  # domain/alerts.AlertKind
    Column("threshold", Float, nullable=False),  # seconds; drift_repairs: repairs an hour
    Column("severity", String(16), nullable=False),
    Column("scope", JSON, nullable=False),  # {"router": name, "site": ..., ...}
    Column("labels", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("description", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("project_id", "name", name="uq_alert_rule_name"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("rule_id", String(36), nullable=False, index=True),  # kept when the rule goes
    Column("rule_name", String(63), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("subject", String(200), nullable=False),  # "neighbor:<id>", "uplink:<id>:<class>"
    Column("subject_name", String(255), nullable=False),
    Column("router_name", String(63), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("detail", Text, nullable=False),
    Column("state", String(12), nullable=False, index=True),  # firing | resolved
    Column("since", UtcDateTime(), nullable=False),  # the condition holds since
    Column("fired_at", UtcDateTime(), nullable=False),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    # "<rule id> <subject>" while firing, null once resolved: one open alert per pair
    Column("open_key", String(240), nullable=True, unique=True),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("name", String(63), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("format", String(16), nullable=False),  # native | alertmanager
    Column("filter", JSON, nullable=False),  # domain/webhooks.EventFilter
    Column("secret_sealed", LargeBinary, nullable=False),  # Fernet, as BGP passwords
    Column("enabled", Boolean, nullable=False),
    Column("description", Text, nullable=False),
    Column("start_event_id", BigInteger, nullable=False),  # gets the events after this one
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("project_id", "name", name="uq_webhook_name"),
)

webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("id", SerialId, primary_key=True, autoincrement=True),  # the order of delivery
    Column("webhook_id", String(36), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("event_kind", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False),  # the exact bytes signed and sent
    Column("created_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Index("ix_webhook_outbox_hook", "webhook_id", "id"),
    sqlite_autoincrement=True,  # an id is never reused once its delivery is made
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", SerialId, primary_key=True, autoincrement=True),
    Column("webhook_id", String(36), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("delivery", BigInteger, nullable=False),  # the outbox row: one per event
    Column("event_id", BigInteger, nullable=False),
    Column("event_kind", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(12), nullable=False),  # delivered | failed | dropped
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("response", Text, nullable=False),  # the answer's first bytes (bounded)
    Index("ix_webhook_deliveries_hook", "webhook_id", "id"),
)
