"""The alerting services as one bundle, built once by the runtime: alert rules, the
alerts they raised, webhooks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from sdwan.secretbox import SecretBox
from sdwan.service.alert_rules import AlertRuleService
from sdwan.service.alerts import AlertService
from sdwan.service.common import NoNotifier
from sdwan.service.resource_events import EventSink
from sdwan.service.webhook_addresses import WebhookAddressPolicy
from sdwan.service.webhooks import WebhookService


@dataclass(frozen=True)
class AlertServices:
    rules: AlertRuleService
    alerts: AlertService
    webhooks: WebhookService


def build_alert_services(
    *, engine: Engine, events: EventSink, secrets: SecretBox, addresses: WebhookAddressPolicy
) -> AlertServices:
    """``events`` must record in the change's transaction (TransactionalEvents)."""
    return AlertServices(
        rules=AlertRuleService(engine=engine, notifier=NoNotifier(), events=events),
        alerts=AlertService(engine=engine),
        webhooks=WebhookService(engine=engine, secrets=secrets, addresses=addresses, events=events),
    )
