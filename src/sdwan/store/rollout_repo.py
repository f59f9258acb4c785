"""Data access for rollouts: keyword-only arguments; callers own the transaction.
A rollout moves on by compare-and-set on its version, so the orchestrator driving it
and a confirmation arriving through the API never both win."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from sdwan.store.rollout_tables import rollouts

RUNNING, GATING, ROLLING_BACK = "running", "gating", "rolling_back"
AWAITING_CONFIRM = "awaiting_confirm"
DONE, ROLLED_BACK, FAILED = "done", "rolled_back", "failed"
ACTIVE = (RUNNING, GATING, ROLLING_BACK, AWAITING_CONFIRM)
FINAL = (DONE, ROLLED_BACK, FAILED)
STATES = ACTIVE + FINAL


@dataclass(frozen=True)
class RolloutRecord:
    id: int
    project_id: str | None
    author: str
    author_role: str
    source: str
    state: str
    message: str
    stages: list[str]
    waves: list[list[str]]
    sites: list[str]
    wave: int
    base_revision: int
    wave_revisions: list[int | None]
    rollback_revision: int | None
    document: dict[str, Any] | None
    prune: bool
    gate_timeout: float
    confirm_within: float | None
    confirm_by: datetime | None
    gate_deadline: datetime | None
    baseline: dict[str, Any] | None
    checks: list[dict[str, str]]
    failures: list[dict[str, Any]]
    detail: str
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def routers(self) -> list[str]:
        """Every router of the rollout, wave by wave."""
        return [router for wave in self.waves for router in wave]


def _record(row: Any) -> RolloutRecord:
    return RolloutRecord(**{c.name: row._mapping[c.name] for c in rollouts.columns})


def insert_rollout(conn: Connection, *, values: Mapping[str, Any]) -> int:
    result = conn.execute(insert(rollouts).values(**values).returning(rollouts.c.id))
    return int(result.scalar_one())


def get_rollout(conn: Connection, *, rollout_id: int) -> RolloutRecord | None:
    row = conn.execute(select(rollouts).where(rollouts.c.id == rollout_id)).first()
    return None if row is None else _record(row)


def list_rollouts(
    conn: Connection,
    *,
    project_id: str | None,
    states: Sequence[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[RolloutRecord], int]:
    """Newest first; ``project_id`` None: every project's. With the total count."""
    where = []
    if project_id is not None:
        where.append(rollouts.c.project_id == project_id)
    if states is not None:
        where.append(rollouts.c.state.in_(list(states)))
    total = conn.execute(select(func.count()).select_from(rollouts).where(*where)).scalar_one()
    rows = conn.execute(
        select(rollouts).where(*where).order_by(rollouts.c.id.desc()).limit(limit).offset(offset)
    )
    return [_record(r) for r in rows], int(total)


def active_ids(conn: Connection) -> list[int]:
    """Rollouts not finished, oldest first."""
    rows = conn.execute(
        select(rollouts.c.id).where(rollouts.c.state.in_(ACTIVE)).order_by(rollouts.c.id)
    )
    return [int(r.id) for r in rows]


def advance(
    conn: Connection, *, rollout_id: int, version: int, values: Mapping[str, Any], at: datetime
) -> bool:
    """Writes ``values`` if the row is still at ``version`` (then one more); False if
    someone else moved it first."""
    result = conn.execute(
        update(rollouts)
        .where(rollouts.c.id == rollout_id, rollouts.c.version == version)
        .values(**values, updated_at=at, version=version + 1)
    )
    return result.rowcount == 1
