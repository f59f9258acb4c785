"""/v1/policyinfo: the original's one-action policy resource, on the policy model."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.schemas.common import ApiAddressText, Input, IpAddress
from sdwan.schemas.policy import PolicyName
from sdwan.service.policyinfo import PolicyInfoView

router = APIRouter(prefix="/v1/policyinfo", tags=["policyinfo"])


class PolicyInfoCreate(Input):
    host_name: str = Field(min_length=1, description="router name or id")
    policy_name: PolicyName
    statement_name: PolicyName = "statement1"
    statement_action: str = Field(
        default="none",
        max_length=80,
        description='"next-hop self", "next-hop ADDR", "local-pref N", "med N", ...',
    )
    route_disposition: Literal["accept", "reject"] = "accept"
    apply_direction: Literal["import", "export"]
    apply_neighbor: IpAddress
    exist: Literal["New", "Existing"] = "New"
    mgmt_addr: ApiAddressText | None = None


class PolicyInfoPublic(BaseModel):
    id: str
    host_name: str
    mgmt_addr: str
    policy_name: str
    statement_name: str
    statement_action: str
    route_disposition: str
    apply_direction: str
    apply_neighbor: str
    exist: str
    status: str
    status_detail: str
    created_at: datetime


class PolicyInfoList(BaseModel):
    items: list[PolicyInfoPublic]
    total: int


def _public(view: PolicyInfoView) -> PolicyInfoPublic:
    return PolicyInfoPublic(
        **{k: v for k, v in asdict(view.record).items() if k in PolicyInfoPublic.model_fields},
        host_name=view.host_name,
        mgmt_addr=view.mgmt_addr,
        status=view.status,
        status_detail=view.status_detail,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_policyinfo(
    body: PolicyInfoCreate, principal: PrincipalDep, services: ServicesDep
) -> PolicyInfoPublic:
    """Create (exist=New) or attach (exist=Existing) a policy for one neighbor."""
    return _public(services.policyinfo.create(principal, body.model_dump()))


@router.get("")
def list_policyinfo(
    principal: PrincipalDep, services: ServicesDep, host_name: str | None = None
) -> PolicyInfoList:
    """Every policyinfo record, oldest first."""
    views = services.policyinfo.list(principal, host_name=host_name)
    return PolicyInfoList(items=[_public(v) for v in views], total=len(views))


@router.get("/{row_id}")
def show_policyinfo(
    row_id: str, principal: PrincipalDep, services: ServicesDep
) -> PolicyInfoPublic:
    """One policyinfo record; its status is that of the attachment it made."""
    return _public(services.policyinfo.get(principal, row_id))


@router.delete("/{row_id}", status_code=status.HTTP_202_ACCEPTED)
def delete_policyinfo(
    row_id: str, principal: PrincipalDep, services: ServicesDep
) -> PolicyInfoPublic:
    """Remove the policy from that neighbor on the router (and the policy itself
    with its last policyinfo, if policyinfo created it)."""
    return _public(services.policyinfo.delete(principal, row_id))
