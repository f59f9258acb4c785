"""One evaluation of some alert rules: read what holds (store/alert_conditions.py),
decide (domain/alerts.decide), write the alerts that fire or resolve with their
``alert.firing`` / ``alert.resolved`` events in one transaction. De-duplicated by the
store: one open alert per (rule, subject), whoever writes it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.domain.alerts import AlertKind, Holding, OpenAlert, alert_labels, decide
from sdwan.events.log import EventLog
from sdwan.events.model import DRIFT_REPAIRED, Event
from sdwan.store import alert_conditions, alert_repo, repo
from sdwan.store.alert_repo import AlertRecord, AlertRuleRecord

log = logging.getLogger(__name__)
ALERT_FIRING = "alert.firing"
ALERT_RESOLVED = "alert.resolved"
GONE = "the rule was deleted or disabled"


@dataclass
class Outcome:
    """What one evaluation did, and when each rule wants to be looked at again."""

    fired: list[str] = field(default_factory=list)  # alert ids
    resolved: list[str] = field(default_factory=list)
    next_due: dict[str, datetime] = field(default_factory=dict)  # rule id -> when


def alert_event(kind: str, alert: AlertRecord, message: str) -> Event:
    data: dict[str, Any] = {
        "rule": alert.rule_id,
        "rule_name": alert.rule_name,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "subject": alert.subject,
        "subject_name": alert.subject_name,
        "labels": alert.labels,
        "detail": alert.detail,
        "since": alert.since.isoformat(),
        "fired_at": alert.fired_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }
    return Event(kind, "alert", alert.id, alert.router_name, message[:2000], data, alert.project_id)


class Evaluator:
    def __init__(
        self,
        engine: Engine,
        events: EventLog,
        *,
        lease: float,
        clock: Callable[[], datetime] = repo.now,
    ) -> None:
        self._engine = engine
        self._events = events
        self._lease = lease
        self._clock = clock

    def run(self, rules: Sequence[AlertRuleRecord], *, sweep: bool = False) -> Outcome:
        """Evaluate ``rules``; with ``sweep``, ``rules`` are every enabled rule and the
        alerts of any other rule (deleted, disabled) are resolved too."""
        now = self._clock()
        outcome = Outcome()
        with self._engine.connect() as conn:
            firing = alert_repo.firing(conn)
            held = {r.id: self._holding(conn, r, now) for r in rules}
        by_rule: dict[str, list[AlertRecord]] = {}
        for alert in firing:
            by_rule.setdefault(alert.rule_id, []).append(alert)
        fire: list[tuple[AlertRuleRecord, Holding]] = []
        resolve: list[tuple[str, str]] = []  # (alert id, why)
        for rule in rules:
            opened = [OpenAlert(a.id, a.subject) for a in by_rule.get(rule.id, [])]
            decision = decide(
                kind=AlertKind(rule.kind),
                threshold=rule.threshold,
                holding=held[rule.id],
                firing=opened,
                now=now,
            )
            fire.extend((rule, h) for h in decision.fire)
            resolve.extend((alert_id, "the condition cleared") for alert_id in decision.resolve)
            if decision.next_due is not None:
                outcome.next_due[rule.id] = decision.next_due
        if sweep:
            known = {r.id for r in rules}
            resolve.extend((a.id, GONE) for a in firing if a.rule_id not in known)
        if fire or resolve:
            self._write(fire, resolve, now, outcome)
        return outcome

    def _holding(self, conn: Connection, rule: AlertRuleRecord, now: datetime) -> list[Holding]:
        return alert_conditions.holding(
            conn,
            kind=AlertKind(rule.kind),
            project=rule.project_id,
            scope=rule.scope,
            threshold=rule.threshold,
            lease=self._lease,
            now=now,
            repaired_kind=DRIFT_REPAIRED,
        )

    def _write(
        self,
        fire: Sequence[tuple[AlertRuleRecord, Holding]],
        resolve: Sequence[tuple[str, str]],
        now: datetime,
        outcome: Outcome,
    ) -> None:
        events: list[Event] = []
        with self._engine.begin() as conn:
            for rule, holding in fire:
                alert = _fire(conn, rule, holding, now)
                if alert is None:
                    continue  # another replica wrote it meanwhile
                outcome.fired.append(alert.id)
                text = f"[{alert.severity}] {alert.rule_name}: {alert.detail}"
                events.append(alert_event(ALERT_FIRING, alert, text))
            for alert_id, why in resolve:
                done = alert_repo.resolve(conn, alert_id=alert_id, at=now)
                if done is None:
                    continue
                outcome.resolved.append(done.id)
                text = f"[{done.severity}] {done.rule_name} resolved: {done.subject_name} ({why})"
                events.append(alert_event(ALERT_RESOLVED, done, text))
            if events:
                self._events.record(conn, events)
        if events:
            self._events.notify()
            for event in events:
                log.info("%s", event.message)


def _fire(
    conn: Connection, rule: AlertRuleRecord, holding: Holding, now: datetime
) -> AlertRecord | None:
    labels = alert_labels(
        rule_name=rule.name,
        severity=rule.severity,
        kind=rule.kind,
        project=rule.project_id,
        rule_labels=rule.labels,
        subject_labels=holding.labels,
    )
    alert_id = repo.new_id()
    values: dict[str, Any] = {
        "id": alert_id,
        "project_id": rule.project_id,
        "rule_id": rule.id,
        "rule_name": rule.name,
        "kind": rule.kind,
        "severity": rule.severity,
        "subject": holding.subject[:200],
        "subject_name": holding.name[:255],
        "router_name": holding.router_name[:63],
        "labels": labels,
        "detail": holding.detail[:2000],
        "since": holding.since,
        "fired_at": now,
        "resolved_at": None,
        "updated_at": now,
    }
    if not alert_repo.insert_firing(conn, values=values):
        return None
    return alert_repo.get_alert(conn, alert_id=alert_id)
