"""/v1/fleet: plan, apply and export whole fleet files (the API of `sdwan apply`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.api.schemas.common import Input

router = APIRouter(prefix="/v1/fleet", tags=["fleet"])


class FleetRequest(Input):
    fleet: dict[str, Any] = Field(description="the fleet file, as JSON")
    prune: bool = Field(
        default=False,
        description="delete what the file does not mention, within the routers it names",
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


@router.post("/plan")
def plan_fleet(body: FleetRequest, principal: PrincipalDep, services: ServicesDep) -> FleetResult:
    """What applying the file would change, field by field; changes nothing."""
    return FleetResult(
        **services.fleet.apply(principal, body.fleet, prune=body.prune, dry_run=True)
    )


@router.post("/apply")
def apply_fleet(body: FleetRequest, principal: PrincipalDep, services: ServicesDep) -> FleetResult:
    """Converge the store to the file in one transaction (all or nothing)."""
    return FleetResult(
        **services.fleet.apply(principal, body.fleet, prune=body.prune, dry_run=False)
    )


@router.get("/export")
def export_fleet(
    principal: PrincipalDep,
    services: ServicesDep,
    router_name: Annotated[list[str] | None, Query(alias="router")] = None,
) -> dict[str, Any]:
    """The current desired state as a fleet file (all routers, or those named)."""
    return services.fleet.export(principal, names=router_name)
