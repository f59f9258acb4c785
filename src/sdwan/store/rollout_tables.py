"""The rollouts table (migration 0015_rollouts): one row per staged or confirmed
change, its waves and where it stands, written in the transaction of each wave's
change (so a crash never leaves a wave applied without the row saying so)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Integer, String, Table, Text

from sdwan.store.tables import SerialId, UtcDateTime, metadata

rollouts = Table(
    "rollouts",
    metadata,
    Column("id", SerialId, primary_key=True, autoincrement=True),
    Column("project_id", String(64), nullable=True, index=True),  # the author's; None: admin
    Column("author", String(63), nullable=False),
    Column("author_role", String(16), nullable=False),
    Column("source", String(16), nullable=False),  # fleet | api
    # running | gating | rolling_back | awaiting_confirm | done | rolled_back | failed
    Column("state", String(16), nullable=False, index=True),
    Column("message", Text, nullable=False),
    Column("stages", JSON, nullable=False),  # as given: ["1", "10%", "100%"]
    Column("waves", JSON, nullable=False),  # [[router id, ...], ...]
    Column("sites", JSON, nullable=False),  # site ids the change touches
    Column("wave", Integer, nullable=False),  # the wave being applied or gated
    Column("base_revision", Integer, nullable=False),  # the revision before the rollout
    Column("wave_revisions", JSON, nullable=False),  # per applied wave: its revision or None
    Column("rollback_revision", Integer, nullable=True),
    Column("document", JSON, nullable=True),  # the fleet file (source fleet)
    Column("prune", Boolean, nullable=False),
    Column("gate_timeout", Float, nullable=False),
    Column("confirm_within", Float, nullable=True),  # seconds; None: no confirmation
    Column("confirm_by", UtcDateTime(), nullable=True),
    Column("gate_deadline", UtcDateTime(), nullable=True),
    Column("baseline", JSON, nullable=True),  # the health snapshot before the first wave
    Column("checks", JSON, nullable=False),  # custom checks: [{kind, router, prefix}]
    Column("failures", JSON, nullable=False),  # [{router, check, detail, observed, predicted}]
    Column("detail", Text, nullable=False),  # one line: what it is doing or why it ended
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    sqlite_autoincrement=True,
)
