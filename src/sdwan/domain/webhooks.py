"""Webhooks, pure: which events a hook takes (``EventFilter``), the body it is sent
(native or Alertmanager's webhook payload, version 4), the signature over it, and the
retry schedule.

Signature: ``X-Sdwan-Timestamp: <unix seconds>`` and ``X-Sdwan-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the hook's secret>``. A receiver
recomputes it over the raw body, compares in constant time and refuses timestamps
further than a few minutes from its own clock (``verify``), so a captured request
cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

SIGNATURE_HEADER = "X-Sdwan-Signature"
TIMESTAMP_HEADER = "X-Sdwan-Timestamp"
EVENT_HEADER = "X-Sdwan-Event"  # the event's id
DELIVERY_HEADER = "X-Sdwan-Delivery"  # the same for every attempt of one delivery
REPLAY_TOLERANCE = 300  # seconds a receiver should accept a timestamp away from its clock
ALERT_KINDS = ("alert.firing", "alert.resolved")
FOREVER = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert still firing


class HookFormat(StrEnum):
    NATIVE = "native"  # the event as GET /v1/events shows it
    ALERTMANAGER = "alertmanager"  # alert events only, as Alertmanager's webhook sends them


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Sdwan-Signature value of ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    *,
    timestamp: str,
    signature: str,
    body: bytes,
    now: float,
    tolerance: float = REPLAY_TOLERANCE,
) -> bool:
    """What a receiver does: the timestamp is recent and the signature matches."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    sent = int(timestamp)
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


def backoff(attempt: int, *, initial: float = 1.0, cap: float = 300.0) -> float:
    """Seconds before retry number ``attempt`` (1: the first retry): doubling from
    ``initial``, at most ``cap``."""
    return float(min(cap, initial * 2 ** min(max(attempt - 1, 0), 32)))


def _kind_matches(pattern: str, kind: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return kind.startswith(pattern[:-1])
    return pattern == kind


@dataclass(frozen=True)
class EventFilter:
    """Which events a hook takes: each list it sets must match (an empty list: any).
    ``kinds``: exact kinds or prefixes (``alert.*``, ``session.changed``);
    ``severities`` and ``rules`` (rule names) are what alert events have, so a filter
    that sets them takes alert events only."""

    kinds: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: Mapping[str, Any]) -> EventFilter:
        return cls(
            tuple(value.get("kinds") or ()),
            tuple(value.get("resource_types") or ()),
            tuple(value.get("severities") or ()),
            tuple(value.get("rules") or ()),
        )

    def public(self) -> dict[str, list[str]]:
        return {
            "kinds": list(self.kinds),
            "resource_types": list(self.resource_types),
            "severities": list(self.severities),
            "rules": list(self.rules),
        }

    def matches(self, event: Mapping[str, Any]) -> bool:
        kind = str(event.get("kind", ""))
        if self.kinds and not any(_kind_matches(p, kind) for p in self.kinds):
            return False
        if self.resource_types and event.get("resource_type") not in self.resource_types:
            return False
        data = event.get("data") or {}
        if self.severities and data.get("severity") not in self.severities:
            return False
        return not (self.rules and data.get("rule_name") not in self.rules)


def takes(hook_format: HookFormat, event_filter: EventFilter, event: Mapping[str, Any]) -> bool:
    """An Alertmanager-format hook takes alert events only; then its filter decides."""
    if hook_format is HookFormat.ALERTMANAGER and event.get("kind") not in ALERT_KINDS:
        return False
    return event_filter.matches(event)


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def native_body(event: Mapping[str, Any], hook: str) -> dict[str, Any]:
    """The event as ``GET /v1/events`` shows it, with the hook's name."""
    return {
        "id": event["id"],
        "time": _time(event["time"]),
        "kind": event["kind"],
        "resource_type": event["resource_type"],
        "resource_id": event["resource_id"],
        "router_name": event["router_name"],
        "project": event.get("project_id"),
        "message": event["message"],
        "data": event.get("data") or {},
        "webhook": hook,
    }


def fingerprint(labels: Mapping[str, str]) -> str:
    """A short stable hash of an alert's labels (Alertmanager's is 16 hex digits)."""
    text = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _group_key(labels: Mapping[str, str]) -> str:
    """Alertmanager's spelling: the route's matchers (none here), then the group's labels."""
    inner = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))
    return "{}:{" + inner + "}"


def alertmanager_body(event: Mapping[str, Any], receiver: str, external_url: str) -> dict[str, Any]:
    """One alert event as Alertmanager's webhook payload (version 4): a group of one
    alert, grouped by its alert name."""
    data = event.get("data") or {}
    labels = {str(k): str(v) for k, v in (data.get("labels") or {}).items()}
    status = "resolved" if event["kind"] == "alert.resolved" else "firing"
    annotations = {"summary": str(event["message"]), "description": str(data.get("detail", ""))}
    alert = {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": _time(data.get("fired_at") or event["time"]),
        "endsAt": _time(data.get("resolved_at")) if status == "resolved" else FOREVER,
        "generatorURL": f"{external_url}/v1/alerts/{event['resource_id']}",
        "fingerprint": fingerprint(labels),
    }
    group = {"alertname": labels.get("alertname", "")}
    return {
        "version": "4",
        "groupKey": _group_key(group),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": group,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": external_url,
        "alerts": [alert],
    }


def body_for(
    hook_format: HookFormat, event: Mapping[str, Any], hook: str, external_url: str
) -> bytes:
    """The bytes a hook is sent for ``event`` (signed as they are)."""
    if hook_format is HookFormat.ALERTMANAGER:
        payload = alertmanager_body(event, hook, external_url)
    else:
        payload = native_body(event, hook)
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def excerpt(body: bytes, limit: int = 256) -> str:
    """The start of a receiver's answer, as the delivery log keeps it."""
    return body[:limit].decode("utf-8", errors="replace")


def kinds_ok(patterns: Sequence[str]) -> str | None:
    """The first kind pattern that is malformed (None: all fine)."""
    for pattern in patterns:
        stem = pattern[:-2] if pattern.endswith(".*") else pattern
        if pattern != "*" and not (stem and all(c.isalnum() or c in "._" for c in stem)):
            return pattern
    return None
