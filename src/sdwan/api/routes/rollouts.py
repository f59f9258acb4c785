"""/v1/rollouts: staged and confirmed changes, where they stand, and their
confirmation (docs/rollout.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.api.queries import LimitQuery, OffsetQuery
from sdwan.store.rollout_repo import RolloutRecord

router = APIRouter(prefix="/v1/rollouts", tags=["rollouts"])
RolloutId = Annotated[int, Path(ge=1, le=2**62, description="the rollout's id")]


class GateFailurePublic(BaseModel):
    router: str | None = Field(description="the router the check failed on; null: all")
    check: str = Field(
        description="the gate's (session, reachable, announced, intent, prediction, rib_has, "
        "rib_lacks), or timeout, apply, confirm, gate, error"
    )
    detail: str
    observed: Any = None
    predicted: Any = None


class RolloutPublic(BaseModel):
    id: int
    project: str | None
    author: str
    source: str = Field(description="fleet (a fleet apply) or api (one confirmable write)")
    state: str = Field(
        description="running, gating, rolling_back, awaiting_confirm, done, rolled_back, failed"
    )
    message: str
    stages: list[str]
    waves: list[list[str]] = Field(description="the routers of each wave (names or ids)")
    sites: list[str]
    wave: int = Field(description="the wave being applied or gated, from 0")
    base_revision: int = Field(
        description="the revision before the rollout: what a rollback restores"
    )
    wave_revisions: list[int | None] = Field(description="the revision each applied wave made")
    rollback_revision: int | None = Field(
        description="the rollback's revision (0: nothing to undo)"
    )
    gate_timeout: float
    confirm_within: float | None
    confirm_by: datetime | None
    failures: list[GateFailurePublic]
    detail: str
    created_at: datetime
    updated_at: datetime
    version: int


class RolloutPage(BaseModel):
    items: list[RolloutPublic]
    total: int
    limit: int
    offset: int


def public(record: RolloutRecord) -> RolloutPublic:
    return RolloutPublic(
        id=record.id,
        project=record.project_id,
        author=record.author,
        source=record.source,
        state=record.state,
        message=record.message,
        stages=record.stages,
        waves=record.waves,
        sites=record.sites,
        wave=record.wave,
        base_revision=record.base_revision,
        wave_revisions=record.wave_revisions,
        rollback_revision=record.rollback_revision,
        gate_timeout=record.gate_timeout,
        confirm_within=record.confirm_within,
        confirm_by=record.confirm_by,
        failures=[GateFailurePublic(**_failure(f)) for f in record.failures],
        detail=record.detail,
        created_at=record.created_at,
        updated_at=record.updated_at,
        version=record.version,
    )


def _failure(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "router": found.get("router"),
        "check": str(found.get("check", "")),
        "detail": str(found.get("detail", "")),
        "observed": found.get("observed"),
        "predicted": found.get("predicted"),
    }


@router.get("")
def list_rollouts(
    principal: PrincipalDep,
    services: ServicesDep,
    state: Annotated[str | None, Query(max_length=32, description="only in this state")] = None,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> RolloutPage:
    """Rollouts, newest first (members and readers: their project's)."""
    items, total = services.rollouts.list(principal, state=state, limit=limit, offset=offset)
    return RolloutPage(items=[public(r) for r in items], total=total, limit=limit, offset=offset)


@router.get("/{rollout_id}")
def get_rollout(
    rollout_id: RolloutId, principal: PrincipalDep, services: ServicesDep
) -> RolloutPublic:
    """One rollout: its waves, where it stands, what failed."""
    return public(services.rollouts.get(principal, rollout_id))


@router.post("/{rollout_id}/confirm")
def confirm_rollout(
    rollout_id: RolloutId, principal: PrincipalDep, services: ServicesDep
) -> RolloutPublic:
    """Keep a change awaiting confirmation (409 in any other state)."""
    return public(services.rollouts.confirm(principal, rollout_id))
