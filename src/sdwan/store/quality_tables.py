"""Tables of path quality and SLA steering (migration 0012_path_quality).

Desired state: ``sla_classes`` (owned by a project, named once in it), and the columns
added to intents (``sla_class_id``), uplinks (``probe``: how the uplink is measured)
and site routers (``probe_agent``: the agent's control address).

Observed state, never part of a resource's ``version``: ``uplink_quality`` (the latest
report of each uplink's probe agent), ``uplink_quality_history`` (those reports
downsampled into buckets of ``resolution`` seconds, bounded by retention) and
``intent_steering`` (which uplinks an intent's SLA class has demoted, and the time
rules' memory; domain/sla.py)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from sdwan.store.tables import UtcDateTime, metadata

sla_classes = Table(
    "sla_classes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("name", String(63), nullable=False),
    Column("loss_pct", Float, nullable=True),  # None: not constrained
    Column("latency_ms", Float, nullable=True),  # round-trip time
    Column("jitter_ms", Float, nullable=True),
    Column("hold_down_s", Float, nullable=False),
    Column("min_interval_s", Float, nullable=False),
    Column("description", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("project_id", "name", name="uq_sla_class_name"),
)

uplink_quality = Table(
    "uplink_quality",
    metadata,
    Column("uplink_id", String(36), ForeignKey("uplinks.id", ondelete="CASCADE"), primary_key=True),
    Column("state", String(8), nullable=False),  # up | dead | unknown
    Column("since", UtcDateTime(), nullable=False),  # in this state since (the agent's clock)
    Column("local_address", String(45), nullable=True),  # the router's own, on the uplink
    Column("interface", String(15), nullable=True),
    Column("short", JSON, nullable=False),  # window figures: loss_pct, latency_ms, ...
    Column("long", JSON, nullable=False),
    Column("classes", JSON, nullable=False),  # class name -> {state, since, reason}
    Column("agent", String(270), nullable=False),  # the agent that reported it
    Column("reported_at", UtcDateTime(), nullable=False),
)

uplink_quality_history = Table(
    "uplink_quality_history",
    metadata,
    Column(
        "uplink_id",
        String(36),
        ForeignKey("uplinks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("resolution", Integer, primary_key=True),  # seconds per bucket
    Column("bucket_start", UtcDateTime(), primary_key=True),
    Column("reports", Integer, nullable=False),  # reports folded into the bucket
    Column("loss_pct", Float, nullable=True),  # mean over the bucket
    Column("loss_max_pct", Float, nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("latency_max_ms", Float, nullable=True),
    Column("jitter_ms", Float, nullable=True),
    Column("jitter_max_ms", Float, nullable=True),
    Column("dead_s", Float, nullable=False),  # seconds of the bucket the uplink was dead
)

intent_steering = Table(
    "intent_steering",
    metadata,
    Column("intent_id", String(36), ForeignKey("intents.id", ondelete="CASCADE"), primary_key=True),
    Column("state", JSON, nullable=False),  # demoted uplinks, returns, hold-downs
    Column("updated_at", UtcDateTime(), nullable=False),
)
