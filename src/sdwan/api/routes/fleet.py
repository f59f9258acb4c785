"""/v1/fleet: plan, apply and export whole fleet files (the API of `sdwan apply`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.api.limits import limited
from sdwan.fleet.model import MAX_PER_SECTION, MAX_ROUTERS
from sdwan.fleet.sla_classes import MAX_CLASSES
from sdwan.schemas.common import Input
from sdwan.service.revision_log import current_confirm, current_message

router = APIRouter(prefix="/v1/fleet", tags=["fleet"])


class FleetFile(BaseModel):
    """The fleet file (docs/fleet-file.md); each router is checked as POST
    /v1/routers and its objects as their own POSTs, errors naming the object."""

    model_config = ConfigDict(extra="forbid", strict=True)
    version: Literal[1] = 1
    routers: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=MAX_ROUTERS,
        description=f"at most {MAX_ROUTERS}; each with at most {MAX_PER_SECTION} neighbors, "
        "defined_sets, policies, attachments and announcements",
    )
    sites: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=MAX_ROUTERS,
        description="sites with their uplinks and intents (docs/intent.md)",
    )
    sla_classes: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=MAX_CLASSES,
        description="SLA classes the intents name (docs/intent.md); with prune, those of "
        "their projects it does not list are deleted",
    )


class FleetRequest(Input):
    fleet: FleetFile = Field(description="the fleet file, as JSON")
    prune: bool = Field(
        default=False,
        description="delete what the file does not mention, within the routers it names",
    )


class RolloutOptions(FleetRequest):
    stages: list[Annotated[str, Field(min_length=1, max_length=16)]] | None = Field(
        default=None,
        max_length=20,
        description='apply in waves: routers reached after each wave, "1" or "10%" '
        "(docs/rollout.md); the first wave is the canary",
    )
    gate_timeout: float = Field(
        default=60.0, description="seconds a wave's gate waits for its objects to be applied"
    )
    confirm_within: float | None = Field(
        default=None,
        description="seconds: after the last wave, roll back unless POST "
        "/v1/rollouts/{id}/confirm comes in time",
    )
    checks: list[dict[str, str]] = Field(
        default_factory=list,
        max_length=100,
        description='custom gate checks: {"kind": "rib_has" | "rib_lacks", "router", "prefix"}',
    )


class FleetChange(BaseModel):
    action: str
    kind: str
    router: str
    key: str
    id: str | None
    fields: dict[str, list[Any]]
    values: dict[str, Any]
    effect: str | None


class FleetResult(BaseModel):
    changes: list[FleetChange]
    effects: list[str]
    applied: bool
    dry_run: bool
    predictions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="plan only: per site and intent, the best path each router would use",
    )
    revision: int | None = Field(
        default=None, description="applied: the revision it made (none if nothing changed)"
    )
    rollout: int | None = Field(
        default=None,
        description="with stages or confirm_within: the rollout applying it "
        "(GET /v1/rollouts/{id})",
    )


def _document(body: FleetRequest) -> dict[str, Any]:
    return body.fleet.model_dump(exclude_unset=True)


@router.post("/plan")
async def plan_fleet(
    request: Request, body: FleetRequest, principal: PrincipalDep, services: ServicesDep
) -> FleetResult:
    """What applying the file would change, field by field; changes nothing. One dry run
    per caller at once; with sites, their predictions read the routers (limited as RIB
    reads are)."""
    document, prune = _document(body), body.prune
    result = await limited(
        request,
        principal,
        lambda: services.fleet.apply(principal, document, prune=prune, dry_run=True),
        reads_routers=bool(body.fleet.sites),
        dry_run=True,
    )
    return FleetResult(**result)


@router.post("/apply")
def apply_fleet(
    body: RolloutOptions, principal: PrincipalDep, services: ServicesDep, response: Response
) -> FleetResult:
    """Converge the store to the file in one transaction (all or nothing). With
    ``stages`` or ``confirm_within``: 202, a rollout applies it in waves, each gated
    (docs/rollout.md); the answer is the plan and the rollout's id."""
    if body.stages is None and body.confirm_within is None:
        return FleetResult(
            **services.fleet.apply(principal, _document(body), prune=body.prune, dry_run=False)
        )
    result = services.rollouts.start_fleet(
        principal,
        _document(body),
        prune=body.prune,
        stages=body.stages,
        gate_timeout=body.gate_timeout,
        confirm_within=body.confirm_within
        if body.confirm_within is not None
        else current_confirm.get(),
        checks=body.checks,
        message=current_message.get(),
    )
    if result["rollout"] is not None:
        response.status_code = 202
    return FleetResult(**result)


@router.get("/export")
def export_fleet(
    principal: PrincipalDep,
    services: ServicesDep,
    router_name: Annotated[list[str] | None, Query(alias="router")] = None,
) -> dict[str, Any]:
    """The current desired state as a fleet file (all routers, or those named)."""
    return services.fleet.export(principal, names=router_name)
