"""Bodies of /v1/sites, /v1/uplinks and /v1/intents. The objects' own fields are the
domain's (sdwan.domain.intent), so the API and the fleet file accept the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from sdwan.domain.intent import (
    Destination,
    IntentSpec,
    Preference,
    ReturnPath,
    SiteRouter,
    SiteSpec,
    Transport,
    UplinkSpec,
)
from sdwan.domain.policy import PrefixMember
from sdwan.domain.probe_plan import ProbeSettings
from sdwan.schemas.common import Description, Name, Patch
from sdwan.schemas.quality import UplinkQuality

SiteRef = Field(min_length=1, max_length=63, description="site id or name")


class SiteCreate(SiteSpec):
    project: Name | None = Field(
        default=None, description="admins: its project (default: its first router's)"
    )


class SiteUpdate(Patch):
    routers: list[SiteRouter] | None = Field(default=None, max_length=64)
    prefixes: list[PrefixMember] | None = Field(default=None, max_length=1000)
    next_hop_self: bool | None = None
    description: Description | None = None


class SiteRouterPublic(BaseModel):
    router: str
    router_name: str
    fib_agent: str | None
    probe_agent: str | None = Field(description="null: <gobgpd socket>.probe")


class SitePublic(BaseModel):
    id: str
    project_id: str
    name: str
    routers: list[SiteRouterPublic]
    prefixes: list[dict[str, Any]]
    next_hop_self: bool
    description: str
    uplinks: list[str]
    intents: list[str]
    status: str = Field(description="of the policy objects the site generates (next hop self)")
    status_detail: str
    version: int
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(default_factory=list)


class UplinkCreate(UplinkSpec):
    site: str = SiteRef


class UplinkUpdate(Patch):
    nullable = ("bandwidth_mbps",)  # null: not known

    transport: Transport | None = None
    cost: int | None = Field(default=None, ge=0, le=65535)
    bandwidth_mbps: int | None = Field(default=None, ge=1, le=10_000_000)
    probe: ProbeSettings | None = Field(default=None, description="replaces the whole setting")
    description: Description | None = None


class UplinkPublic(BaseModel):
    id: str
    site: str
    site_name: str
    name: str
    router: str
    router_name: str
    neighbor: str
    transport: str
    cost: int
    bandwidth_mbps: int | None
    probe: ProbeSettings = Field(
        description="how it is measured (in full; a null target or rate: the default)"
    )
    description: str
    used_by: list[str] = Field(description="intents naming it")
    quality: UplinkQuality | None = Field(
        description="measured now (observed; null: its probe agent never reported it)"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class IntentCreate(IntentSpec):
    site: str = SiteRef


class IntentUpdate(Patch):
    nullable = ("sla_class",)  # null: steered on reachability only

    destination: Destination | None = None
    prefer: Preference | None = None
    return_path: ReturnPath | None = None
    sla_class: str | None = Field(
        default=None, min_length=1, max_length=63, description="name or id; null clears it"
    )
    description: Description | None = None


class Verification(BaseModel):
    """The intent controller's last check (it follows the intent's changes within a
    second or two; ``intent_version`` says which version it checked)."""

    intent_version: int = Field(description="the intent's version this check was made for")
    verdict: str = Field(description="VERIFIED, DEGRADED, VIOLATED, PENDING or UNKNOWN")
    detail: str
    since: datetime
    checked_at: datetime
    paths: list[dict[str, Any]] = Field(description="router by router, prefix by prefix")


class GeneratedObject(BaseModel):
    kind: str
    id: str
    router: str
    router_name: str
    name: str
    status: str


class IntentPublic(BaseModel):
    id: str
    site: str
    site_name: str
    name: str
    destination: dict[str, Any]
    prefer: list[list[str]] | str
    tiers: list[list[str]] = Field(description="the tiers in force (prefer: cost resolved)")
    return_path: dict[str, Any]
    sla_class: str | None = Field(description="the SLA class it steers on, by name")
    description: str
    status: str = Field(description="of its generated policy objects on the routers")
    status_detail: str
    verification: Verification | None
    generated: list[GeneratedObject]
    version: int
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(default_factory=list)


class PlanObjects(BaseModel):
    router: str
    changes: list[str] = Field(description="+ created, ~ changed, - deleted")
    effects: list[str] = Field(description="what the BGP sessions see: soft resets only")


class PlanUplinkQuality(BaseModel):
    uplink: str
    state: str = Field(description="up, dead, unknown (agent, no samples), or unmeasured")
    loss_pct: float | None = Field(description="long window")
    latency_ms: float | None = Field(description="long window, round trip (median)")
    jitter_ms: float | None = Field(description="long window")
    class_state: str = Field(description="met, violated, unknown (in between), unmeasured")
    reason: str = Field(description="why the class is violated, as the agent says")
    demoted: bool = Field(description="demoted now (in the compiled policy)")
    demoted_after: bool = Field(description="demoted once the decision due now applies")


class PlanSla(BaseModel):
    """An intent's SLA class against its uplinks' quality now, and the steering
    decision that would apply now (the prediction uses its tiers)."""

    class_: str = Field(alias="class")
    limits: dict[str, float | None]
    uplinks: list[PlanUplinkQuality]
    moves: list[dict[str, str]] = Field(description="demote/return due now, with the reason")
    tiers: list[list[str]] = Field(description="the tiers the prediction uses")
    note: str = Field(description="set when no uplink meets the class")


class PlanPrediction(BaseModel):
    verdict: str
    detail: str
    unreachable: dict[str, str]
    paths: list[dict[str, Any]]
    sla: PlanSla | None = Field(default=None, description="intents with an SLA class")


class IntentPlan(BaseModel):
    site: str
    intent: str
    action: str = Field(description="create, update or none")
    objects: list[PlanObjects]
    prediction: PlanPrediction
