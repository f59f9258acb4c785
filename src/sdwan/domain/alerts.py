"""Alert rules and when their alerts fire and resolve. Pure: the store says which
subjects' conditions hold now and since when (store/alert_conditions.py), this says
what to do about it.

A rule has a ``kind`` (what operators page for), a ``threshold`` (seconds the
condition must hold; for ``drift_repairs``, the repairs an hour that are still fine),
a scope (router, site, intent or uplink names; which ones a kind takes is in
``SCOPES``), a severity and labels. An alert is one (rule, subject): it fires once the
subject's condition has held for the threshold, and resolves when the condition no
longer holds; there is at most one open alert per (rule, subject)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class AlertKind(StrEnum):
    SESSION_DOWN = "session_down"  # a BGP session not Established (not admin-down)
    INTENT_DEGRADED = "intent_degraded"  # an intent's verdict DEGRADED or VIOLATED
    UPLINK_SLA = "uplink_sla"  # an uplink's probe agent reports an SLA class violated
    ROUTER_UNREACHABLE = "router_unreachable"  # its gobgpd does not answer
    REPLICA_LOST = "replica_lost"  # a replica's heartbeat is older than the lease
    DRIFT_REPAIRS = "drift_repairs"  # a router's drift repaired more than N times an hour


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


# the scope names each kind may be limited by (the others do not apply to it)
SCOPES: dict[AlertKind, tuple[str, ...]] = {
    AlertKind.SESSION_DOWN: ("router", "site"),
    AlertKind.INTENT_DEGRADED: ("site", "intent"),
    AlertKind.UPLINK_SLA: ("site", "uplink"),
    AlertKind.ROUTER_UNREACHABLE: ("router", "site"),
    AlertKind.REPLICA_LOST: (),
    AlertKind.DRIFT_REPAIRS: ("router", "site"),
}
SCOPE_NAMES = ("router", "site", "intent", "uplink")
MAX_HOLD_SECONDS = 7 * 86400.0  # a condition held a week is paged for long before
MAX_REPAIRS_PER_HOUR = 100_000
DRIFT_WINDOW = timedelta(hours=1)
MAX_LABELS = 20
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,62}$")  # as Prometheus names labels
MAX_LABEL_VALUE = 256
# labels every alert carries; a rule's own labels may not redefine them
RESERVED_LABELS = frozenset({"alertname", "severity", "kind", "project", *SCOPE_NAMES})


def check_threshold(kind: AlertKind, threshold: float) -> str | None:
    """Why ``threshold`` does not fit ``kind`` (None: it does)."""
    if kind is AlertKind.DRIFT_REPAIRS:
        if threshold != int(threshold) or not 0 <= threshold <= MAX_REPAIRS_PER_HOUR:
            return (
                f"for drift_repairs the threshold is the number of repairs an hour that "
                f"are still fine: a whole number 0 to {MAX_REPAIRS_PER_HOUR}"
            )
        return None
    if not 0 <= threshold <= MAX_HOLD_SECONDS:
        return f"the threshold is the seconds the condition must hold: 0 to {MAX_HOLD_SECONDS:g}"
    return None


def check_scope(kind: AlertKind, scope: Mapping[str, str | None]) -> str | None:
    """The first scope name ``kind`` does not take (None: all fit)."""
    for name, value in scope.items():
        if value is not None and name not in SCOPES[kind]:
            return name
    return None


def check_labels(labels: Mapping[str, str]) -> tuple[str, str] | None:
    """(label, why) for the first label that is not allowed; None when all are."""
    if len(labels) > MAX_LABELS:
        return "", f"at most {MAX_LABELS} labels"
    for name, value in labels.items():
        if not LABEL_NAME.fullmatch(name):
            return name, "a label name is a letter or _ then letters, digits or _ (at most 63)"
        if name in RESERVED_LABELS:
            return name, f"every alert sets {name!r} itself"
        if len(value) > MAX_LABEL_VALUE:
            return name, f"a label value is at most {MAX_LABEL_VALUE} characters"
    return None


def hold_for(kind: AlertKind, threshold: float) -> timedelta:
    """How long a condition holds before its alert fires: drift repairs are counted,
    so theirs fires as soon as the count is over the threshold."""
    if kind is AlertKind.DRIFT_REPAIRS:
        return timedelta(0)
    return timedelta(seconds=threshold)


@dataclass(frozen=True)
class Holding:
    """A subject whose condition holds now, as the store shows it."""

    subject: str  # "neighbor:<id>": the same subject, the same alert
    name: str  # what people call it: "GoBGP-1/198.18.0.2"
    since: datetime  # holding since (the store's time of the change)
    detail: str
    labels: Mapping[str, str] = field(default_factory=dict)  # router, site, ...
    router_name: str = ""  # for the event's router column ("" when none)
    clears_at: datetime | None = None  # when it stops holding unless something happens


@dataclass(frozen=True)
class OpenAlert:
    """A firing alert as stored."""

    alert_id: str
    subject: str


@dataclass(frozen=True)
class Decision:
    fire: list[Holding]
    resolve: list[str]  # alert ids
    next_due: datetime | None  # when this rule should be looked at again at the latest


def decide(
    *,
    kind: AlertKind,
    threshold: float,
    holding: Sequence[Holding],
    firing: Sequence[OpenAlert],
    now: datetime,
) -> Decision:
    """Fire for subjects held for the threshold that have no open alert; resolve the
    open alerts whose subject no longer holds; the next moment something is due
    without any change in the store (a condition reaching its threshold, a drift
    count falling back)."""
    wait = hold_for(kind, threshold)
    open_subjects = {a.subject for a in firing}
    fire: list[Holding] = []
    due: list[datetime] = []
    for item in holding:
        if item.clears_at is not None:
            due.append(item.clears_at)
        if item.subject in open_subjects:
            continue
        ready = item.since + wait
        if ready <= now:
            fire.append(item)
        else:
            due.append(ready)
    held = {h.subject for h in holding}
    resolve = [a.alert_id for a in firing if a.subject not in held]
    return Decision(fire, resolve, min(due) if due else None)


def repairs_over(
    times: Sequence[datetime], limit: int, now: datetime, window: timedelta = DRIFT_WINDOW
) -> tuple[datetime, datetime] | None:
    """More than ``limit`` repairs in the ``window`` before ``now``: (since when, when
    that stops unless more come); None when not. Repairs stamped after ``now`` count
    too (another replica's clock may run a little ahead)."""
    recent = sorted(t for t in times if now - window < t)
    if len(recent) <= limit:
        return None
    since = recent[limit]  # the first moment this window held one too many
    last_to_drop = recent[len(recent) - limit - 1]  # once it is out, ``limit`` are left
    return since, last_to_drop + window


def session_down_since(last_down_at: datetime | None, declared_at: datetime) -> datetime:
    """Since when a session that is not Established has been down: since it last went
    down, or, never seen up, since the neighbor was declared."""
    return last_down_at if last_down_at is not None else declared_at


def violated_classes(classes: Mapping[str, object]) -> list[tuple[str, datetime, str]]:
    """(class, since, reason) of each SLA class an uplink's report says is violated
    (``{"state": "violated", "since": <epoch seconds>, "reason": ...}``); malformed
    entries are skipped: the report comes from an agent."""
    found = []
    for name, entry in sorted(classes.items()):
        if not isinstance(entry, Mapping) or entry.get("state") != "violated":
            continue
        since = entry.get("since")
        if isinstance(since, bool) or not isinstance(since, int | float) or since < 0:
            continue
        try:
            when = datetime.fromtimestamp(float(since), UTC)
        except (OverflowError, OSError, ValueError):
            continue
        reason = entry.get("reason")
        found.append((str(name), when, reason if isinstance(reason, str) else ""))
    return found


def alert_labels(
    *,
    rule_name: str,
    severity: str,
    kind: str,
    project: str,
    rule_labels: Mapping[str, str],
    subject_labels: Mapping[str, str],
) -> dict[str, str]:
    """The labels of one alert: the rule's own, the subject's (router, site, ...)
    and what every alert carries (alertname, severity, kind, project)."""
    return {
        **rule_labels,
        **subject_labels,
        "alertname": rule_name,
        "severity": severity,
        "kind": kind,
        "project": project,
    }
