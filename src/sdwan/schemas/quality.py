"""Bodies of /v1/sla-classes and the path quality in uplink answers
(/v1/uplinks/{id} ``quality``, /v1/uplinks/{id}/quality/history). The class's own
fields are the domain's (sdwan.domain.sla.SlaClassSpec), so the API and the fleet file
accept the same."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from sdwan.domain.sla import LIMITS, LossLimit, Seconds, SlaClassSpec, TimeLimit
from sdwan.schemas.common import Description, Name, Patch


class SlaClassCreate(SlaClassSpec):
    project: Name | None = Field(
        default=None, description="admins: its project (default: the caller's, else default)"
    )


class SlaClassUpdate(Patch):
    """A limit sent as null is lifted (the class keeps at least one)."""

    nullable = LIMITS

    loss_pct: LossLimit | None = None
    latency_ms: TimeLimit | None = None
    jitter_ms: TimeLimit | None = None
    hold_down_s: Seconds | None = None
    min_interval_s: Seconds | None = None
    description: Description | None = None


class SlaClassPublic(BaseModel):
    id: str
    project_id: str
    name: str
    loss_pct: float | None = Field(description="loss limit, % (null: not constrained)")
    latency_ms: float | None = Field(description="round-trip time limit, ms")
    jitter_ms: float | None = Field(description="jitter limit (mean |delta RTT|), ms")
    hold_down_s: float = Field(description="a demoted uplink returns after meeting it this long")
    min_interval_s: float = Field(description="at least this long between moves of one uplink")
    description: str
    used_by: list[str] = Field(description="the intents steered on it, as site/intent")
    version: int
    created_at: datetime
    updated_at: datetime


class WindowFigures(BaseModel):
    """One window of an uplink's probes; a figure is null while not measured."""

    window_s: float | None = Field(default=None, description="the window's length, seconds")
    sent: int = 0
    answered: int = 0
    loss_pct: float | None = Field(
        default=None, description="lost, % of the probes whose fate is known"
    )
    latency_ms: float | None = Field(default=None, description="round-trip time, median, ms")
    jitter_ms: float | None = Field(
        default=None, description="mean |difference| of consecutive RTTs, ms"
    )


class ClassQuality(BaseModel):
    state: str = Field(
        default="unknown", description="met, violated or unknown (the probe agent's verdict)"
    )
    since: datetime | None = None
    reason: str = Field(default="", description="why it is violated: 'loss 6.1 % > 1 %'")


class UplinkQuality(BaseModel):
    """What the uplink's probe agent reported last (read-only, observed state)."""

    state: str = Field(description="up, dead (probes unanswered) or unknown (not measured)")
    since: datetime = Field(description="in this state since")
    local_address: str | None = Field(description="the router's own address on the uplink")
    interface: str | None
    short: WindowFigures = Field(description="the short window: fast to see a violation")
    long: WindowFigures = Field(description="the long window: steady, for returns")
    classes: dict[str, ClassQuality] = Field(description="per SLA class that applies to it")
    agent: str = Field(description="the probe agent that reported it")
    reported_at: datetime
    stale: bool = Field(description="no report for a while: the figures may be old")


class HistoryPoint(BaseModel):
    start: datetime = Field(description="the bucket's start; it lasts `resolution` seconds")
    reports: int = Field(description="the agent's summaries folded into it")
    loss_pct: float | None = Field(description="mean over the bucket's reports, %")
    loss_max_pct: float | None
    latency_ms: float | None = Field(description="mean round-trip time, ms")
    latency_max_ms: float | None
    jitter_ms: float | None
    jitter_max_ms: float | None
    dead_s: float = Field(description="seconds of the bucket the uplink was dead")


class QualityHistory(BaseModel):
    uplink: str
    site_name: str
    name: str
    resolution: int | None = Field(description="seconds per point (null: nothing stored)")
    resolutions: list[int] = Field(description="the resolutions stored for this uplink")
    items: list[HistoryPoint] = Field(description="oldest first, the newest last")
