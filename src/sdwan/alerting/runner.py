"""The alert controller and the webhook dispatcher, built and run together beside the
reconciler (one each per process; on PostgreSQL each works on one replica at a time,
the one holding its advisory lock)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from sdwan.alerting.controller import AlertController
from sdwan.alerting.dispatcher import DeliveryLimits, WebhookDispatcher
from sdwan.config import Settings
from sdwan.events.log import EventLog
from sdwan.secretbox import SecretBox
from sdwan.service.webhook_addresses import WebhookAddressPolicy
from sdwan.store.db import ALERTS_LEADER_LOCK, WEBHOOKS_LEADER_LOCK, is_postgres
from sdwan.store.leader import AdvisoryLeader, Leader, SoleLeader


@dataclass
class Alerting:
    controller: AlertController
    dispatcher: WebhookDispatcher

    def start(self) -> None:
        self.controller.start()
        self.dispatcher.start()

    def stop(self) -> None:
        self.dispatcher.stop()
        self.controller.stop()


def _leader(engine: Engine, key: int, job: str) -> Leader:
    return AdvisoryLeader(engine, key, job=job) if is_postgres(engine) else SoleLeader()


def build_alerting(
    settings: Settings,
    *,
    engine: Engine,
    events: EventLog,
    secrets: SecretBox,
    addresses: WebhookAddressPolicy,
) -> Alerting:
    """``engine``: the background engine (alerts and deliveries are derived state)."""
    scheme = "https" if settings.tls_cert is not None else "http"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return Alerting(
        AlertController(
            engine=engine,
            events=events,
            leader=_leader(engine, ALERTS_LEADER_LOCK, "alert rules"),
            lease=settings.lease_duration,
        ),
        WebhookDispatcher(
            engine=engine,
            events=events,
            secrets=secrets,
            addresses=addresses,
            leader=_leader(engine, WEBHOOKS_LEADER_LOCK, "webhooks"),
            external_url=f"{scheme}://{host}:{settings.port}",
            limits=DeliveryLimits(timeout=settings.webhook_timeout),
        ),
    )
