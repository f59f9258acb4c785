"""/v1/alert-rules and /v1/webhooks (declared: routes/site_owned.py builds them),
/v1/alerts (read-only) and /v1/webhooks/{id}/deliveries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.api.queries import LimitQuery, OffsetQuery
from sdwan.api.routes.site_owned import SiteResource, build_router
from sdwan.domain.webhooks import EventFilter
from sdwan.schemas.alerts import (
    AlertPublic,
    AlertRuleCreate,
    AlertRulePublic,
    AlertRuleUpdate,
    DeliveryPublic,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
)
from sdwan.schemas.common import ListOf
from sdwan.service.alert_rules import AlertRuleView
from sdwan.service.common import ListQuery
from sdwan.service.webhooks import WebhookView
from sdwan.store.alert_repo import AlertRecord


def rule_public(view: AlertRuleView, _warnings: list[str]) -> AlertRulePublic:
    return AlertRulePublic(**asdict(view.record), firing=view.firing)


def webhook_public(view: WebhookView, _warnings: list[str]) -> WebhookPublic:
    hook = view.record
    fields = {k: v for k, v in asdict(hook).items() if k not in ("secret_sealed", "filter")}
    fields.pop("start_event_id")
    return WebhookPublic(
        **fields, filter=EventFilter.of(hook.filter).public(), pending=view.pending
    )


def alert_public(alert: AlertRecord) -> AlertPublic:
    fields = asdict(alert)
    return AlertPublic(**{k: v for k, v in fields.items() if k != "rule_id"}, rule=alert.rule_id)


RULES = SiteResource[AlertRuleView](
    path="/v1/alert-rules",
    tag="alerts",
    name="alert_rule",
    ident="rule_id",
    service=lambda s: s.alerts.rules,
    create=AlertRuleCreate,
    update=AlertRuleUpdate,
    public=AlertRulePublic,
    to_public=rule_public,
    filters=("name", "kind", "severity"),
    docs={
        "create": "Declare an alert rule: what to page for, after how long, for which "
        "subjects\n(scope), with which severity and labels.",
        "list": "List alert rules, with how many of their alerts are firing.",
        "show": "One alert rule.",
        "update": "Change its threshold, severity, scope, labels or whether it is enabled; "
        "its\nalerts follow at the next evaluation.",
        "delete": "Delete an alert rule; its firing alerts resolve, the history stays.",
    },
)
WEBHOOKS = SiteResource[WebhookView](
    path="/v1/webhooks",
    tag="alerts",
    name="webhook",
    ident="webhook_id",
    service=lambda s: s.alerts.webhooks,
    create=WebhookCreate,
    update=WebhookUpdate,
    public=WebhookPublic,
    to_public=webhook_public,
    filters=("name",),
    docs={
        "create": "Declare a webhook: events and alerts matching its filter are POSTed to "
        "its URL,\nsigned with its secret (write-only), in order, at least once.",
        "list": "List webhooks, with their deliveries waiting.",
        "show": "One webhook (never its secret).",
        "update": "Change its URL, secret, format, filter or whether it is enabled.",
        "delete": "Delete a webhook with its queue and delivery log.",
    },
)

reads = APIRouter(tags=["alerts"])


@reads.get("/v1/alerts", response_model=ListOf[AlertPublic])
def list_alerts(
    principal: PrincipalDep,
    services: ServicesDep,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
    sort: str | None = None,
    state: str | None = Query(default=None, description="firing or resolved"),
    severity: str | None = None,
    kind: str | None = None,
    rule: str | None = Query(default=None, description="the rule's name"),
    router: str | None = Query(default=None, description="the router's name"),
) -> dict[str, Any]:
    """Alerts, newest first: firing and resolved (kept 7 days), one per rule and subject
    while firing."""
    wanted = {"state": state, "severity": severity, "kind": kind, "rule": rule, "router": router}
    filters = {k: v for k, v in wanted.items() if v is not None}
    page = services.alerts.alerts.list(principal, ListQuery(filters, sort, limit, offset))
    items = [alert_public(a) for a in page.items]
    return {"items": items, "total": page.total, "limit": limit, "offset": offset}


@reads.get("/v1/alerts/{alert_id}")
def show_alert(alert_id: str, principal: PrincipalDep, services: ServicesDep) -> AlertPublic:
    """One alert."""
    return alert_public(services.alerts.alerts.get(principal, alert_id))


@reads.get("/v1/webhooks/{webhook_id}/deliveries", response_model=ListOf[DeliveryPublic])
def list_deliveries(
    webhook_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    """The hook's delivery log, newest first: one entry per attempt, with the receiver's
    status code or the error, and how long it took (kept 7 days, 1000 per hook)."""
    page = services.alerts.webhooks.deliveries(principal, webhook_id, limit=limit, offset=offset)
    items = [DeliveryPublic(**asdict(d)) for d in page.items]
    return {"items": items, "total": page.total, "limit": limit, "offset": offset}


routers = [build_router(RULES), build_router(WEBHOOKS), reads]
