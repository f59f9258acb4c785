"""Bodies of /v1/alert-rules, /v1/alerts and /v1/webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from sdwan.domain.alerts import MAX_HOLD_SECONDS, MAX_LABELS
from sdwan.domain.webhook_url import MAX_URL
from sdwan.schemas.common import Description, Input, Name, Patch

Kind = Literal[
    "session_down",
    "intent_degraded",
    "uplink_sla",
    "router_unreachable",
    "replica_lost",
    "drift_repairs",
]
SeverityText = Literal["critical", "warning", "info"]
Threshold = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_HOLD_SECONDS,
        description="seconds the condition must hold before the alert fires; for "
        "drift_repairs the number of repairs an hour that are still fine (it fires at one "
        "more)",
    ),
]
Labels = Annotated[
    dict[Annotated[str, Field(max_length=63)], Annotated[str, Field(max_length=256)]],
    Field(max_length=MAX_LABELS, description="added to every alert of the rule"),
]
Secret = Annotated[
    str,
    Field(
        min_length=16,
        max_length=256,
        description="the HMAC-SHA256 key of the X-Sdwan-Signature header; write-only",
    ),
]
KindPattern = Annotated[str, Field(min_length=1, max_length=64)]


class AlertScope(Input):
    """Which subjects a rule looks at within its project (all of them when empty):
    session_down and router_unreachable and drift_repairs take router and site;
    intent_degraded site and intent; uplink_sla site and uplink; replica_lost none."""

    router: Name | None = None
    site: Name | None = None
    intent: Name | None = None
    uplink: Name | None = None


class AlertRuleCreate(Input):
    name: Name
    kind: Kind
    threshold: Threshold
    severity: SeverityText = "warning"
    scope: AlertScope = Field(default_factory=AlertScope)
    labels: Labels = Field(default_factory=dict)
    enabled: bool = True
    description: Description = ""
    project: Name | None = Field(default=None, description="admins: its project")


class AlertRuleUpdate(Patch):
    threshold: Threshold | None = None
    severity: SeverityText | None = None
    scope: AlertScope | None = Field(default=None, description="replaces the scope")
    labels: Labels | None = Field(default=None, description="replaces the labels")
    enabled: bool | None = None
    description: Description | None = None


class AlertRulePublic(BaseModel):
    id: str
    project_id: str
    name: str
    kind: str
    threshold: float
    severity: str
    scope: dict[str, str]
    labels: dict[str, str]
    enabled: bool
    description: str
    firing: int = Field(description="alerts of this rule firing now")
    version: int
    created_at: datetime
    updated_at: datetime


class AlertPublic(BaseModel):
    """One (rule, subject): it fired once the condition held for the rule's threshold
    and is resolved once it no longer holds. Read-only."""

    id: str
    project_id: str
    rule: str = Field(description="the rule's id (kept when the rule is deleted)")
    rule_name: str
    kind: str
    severity: str
    state: Literal["firing", "resolved"]
    subject: str = Field(description="what it is about: neighbor:<id>, router:<id>, ...")
    subject_name: str
    router_name: str
    labels: dict[str, str]
    detail: str
    since: datetime = Field(description="since when the condition held")
    fired_at: datetime
    resolved_at: datetime | None
    updated_at: datetime


class WebhookFilter(Input):
    """Which events a hook gets: every list it sets must match (empty: any). A filter
    with severities or rules gets alert events only."""

    kinds: list[KindPattern] = Field(
        default_factory=list,
        max_length=32,
        description="event kinds, exact or a prefix: alert.*, session.changed, *",
    )
    resource_types: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=32
    )
    severities: list[SeverityText] = Field(default_factory=list, max_length=3)
    rules: list[Name] = Field(default_factory=list, max_length=64, description="rule names")


class WebhookCreate(Input):
    name: Name
    url: str = Field(
        min_length=1,
        max_length=MAX_URL,
        description="http:// or https://; the host must be among the allowed addresses",
    )
    secret: Secret
    format: Literal["native", "alertmanager"] = "native"
    filter: WebhookFilter = Field(default_factory=WebhookFilter)
    enabled: bool = True
    description: Description = ""
    project: Name | None = Field(default=None, description="admins: its project")


class WebhookUpdate(Patch):
    url: str | None = Field(default=None, min_length=1, max_length=MAX_URL)
    secret: Secret | None = None
    format: Literal["native", "alertmanager"] | None = None
    filter: WebhookFilter | None = None
    enabled: bool | None = None
    description: Description | None = None


class WebhookPublic(BaseModel):
    id: str
    project_id: str
    name: str
    url: str
    format: str
    filter: dict[str, list[str]]
    enabled: bool
    description: str
    pending: int = Field(description="deliveries waiting (in order) to be made")
    version: int
    created_at: datetime
    updated_at: datetime


class DeliveryPublic(BaseModel):
    """One attempt to deliver one event."""

    id: int
    delivery: int = Field(description="the same for every attempt of one event")
    event_id: int
    event_kind: str
    at: datetime
    attempt: int
    outcome: Literal["delivered", "failed", "dropped"]
    status_code: int | None = Field(description="the receiver's HTTP status, if it answered")
    error: str
    duration_ms: float
    response: str = Field(description="the first bytes of the answer")
