"""Measured path quality as the API and /metrics show it: when an uplink's latest
report is stale, which stored resolution a history answer uses, and the Prometheus
gauges read from the reports at scrape time. Read-only: the quality controller
(sdwan.quality) writes what this reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from sdwan.metrics import Gauge, Labels
from sdwan.store import quality_repo, repo
from sdwan.store.quality_repo import HistoryBucket, UplinkQualityRecord

# A report older than this is stale: the agents send a summary every second (their
# --summary-interval), so five missed summaries mean the agent or its stream is gone.
STALE_AFTER = timedelta(seconds=5)
HISTORY_LIMIT = 360  # points a history answer holds unless asked for fewer or more
MAX_HISTORY_LIMIT = 10_000
STATES = ("up", "dead", "unknown")


def is_stale(record: UplinkQualityRecord, now: datetime) -> bool:
    return now - record.reported_at > STALE_AFTER


@dataclass(frozen=True)
class History:
    uplink_id: str
    site_name: str
    name: str
    resolution: int | None  # None: nothing stored
    resolutions: list[int]
    buckets: list[HistoryBucket]


def pick_resolution(stored: dict[int, datetime], since: datetime | None) -> int | None:
    """The finest resolution whose buckets reach back to ``since`` (without ``since``:
    the finest); when none does, the one reaching back furthest."""
    if not stored:
        return None
    finest_first = sorted(stored)
    if since is None:
        return finest_first[0]
    covering = [r for r in finest_first if stored[r] <= since]
    return covering[0] if covering else min(finest_first, key=lambda r: (stored[r], r))


def quality_gauges(conn: Connection, project_id: str | None) -> list[Gauge]:
    """Per uplink (labels site, uplink, router): loss as a ratio, latency and jitter in
    seconds per window (label ``window``: short | long), the state (one series per
    state, 1 for the current one), whether each SLA class is met (label ``class``: 1
    met, 0 violated; unknown: no series) and the age of the report. A figure not
    measured has no series."""
    now = repo.now()
    figures: dict[str, list[tuple[Labels, float]]] = {"loss": [], "latency": [], "jitter": []}
    states: list[tuple[Labels, float]] = []
    classes: list[tuple[Labels, float]] = []
    ages: list[tuple[Labels, float]] = []
    for named in quality_repo.named_quality(conn, project_id=project_id):
        quality = named.quality
        uplink = {"router": named.router, "site": named.site, "uplink": named.uplink}
        for window, values in (("short", quality.short), ("long", quality.long)):
            for name, key, scale in (
                ("loss", "loss_pct", 0.01),
                ("latency", "latency_ms", 0.001),
                ("jitter", "jitter_ms", 0.001),
            ):
                value = values.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    figures[name].append((_labels(uplink, window=window), float(value) * scale))
        for state in STATES:
            states.append((_labels(uplink, state=state), 1.0 if quality.state == state else 0.0))
        for class_name, verdict in sorted(quality.classes.items()):
            met = {"met": 1.0, "violated": 0.0}.get(str(verdict.get("state")))
            if met is not None:
                classes.append((_labels(uplink, **{"class": class_name}), met))
        ages.append((_labels(uplink), max((now - quality.reported_at).total_seconds(), 0.0)))
    return [
        Gauge(
            "sdwan_uplink_loss_ratio",
            "Probes lost on an uplink (0-1), by window (short|long).",
            figures["loss"],
        ),
        Gauge(
            "sdwan_uplink_latency_seconds",
            "Round-trip time over an uplink (median), by window.",
            figures["latency"],
        ),
        Gauge(
            "sdwan_uplink_jitter_seconds",
            "Jitter over an uplink (mean |delta RTT|), by window.",
            figures["jitter"],
        ),
        Gauge("sdwan_uplink_state", "1 for an uplink's probe state (up|dead|unknown).", states),
        Gauge(
            "sdwan_uplink_sla_met",
            "1 when an uplink meets an SLA class, 0 when it violates it.",
            classes,
        ),
        Gauge(
            "sdwan_uplink_quality_age_seconds",
            "Seconds since the uplink's probe agent last reported it.",
            ages,
        ),
    ]


def _labels(base: dict[str, str], **more: str) -> Labels:
    return tuple(sorted({**base, **more}.items()))
