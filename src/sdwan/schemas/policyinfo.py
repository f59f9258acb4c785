"""Bodies of /v1/policyinfo: the original's one-action policy resource."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from sdwan.schemas.common import ApiAddressText, Input, IpAddress
from sdwan.schemas.policy import PolicyName


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
