"""What a probe agent reports of one uplink, parsed from its JSON (``GET /quality`` and
each stream line) into typed values. Pure. Anything malformed is dropped, never
trusted: an agent is a process on a router, not part of the orchestrator."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from sdwan.domain.sla import ClassReport, ClassVerdict, UplinkQuality

__all__ = ["Figures", "UplinkReport", "parse_line"]

_STATES = ("up", "dead", "unknown")


@dataclass(frozen=True)
class Figures:
    """One window's figures; None where not measured."""

    window_s: float | None = None
    sent: int = 0
    answered: int = 0
    loss_pct: float | None = None
    latency_ms: float | None = None
    jitter_ms: float | None = None

    def public(self) -> dict[str, Any]:
        """The agent's JSON shape of a window (probe/meter.py's ``WindowStats``)."""
        return asdict(self)


@dataclass(frozen=True)
class UplinkReport:
    uplink_id: str
    state: str  # up | dead | unknown
    since: float
    short: Figures = field(default_factory=Figures)
    long: Figures = field(default_factory=Figures)
    classes: dict[str, ClassReport] = field(default_factory=dict)
    local_address: str | None = None
    interface: str | None = None

    def quality(self) -> UplinkQuality:
        """What the steering reads: the state, the long window, the classes."""
        return UplinkQuality(
            self.state,
            self.since,
            self.long.loss_pct,
            self.long.latency_ms,
            self.long.jitter_ms,
            dict(self.classes),
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _text(value: Any, limit: int = 200) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _figures(value: Any) -> Figures:
    if not isinstance(value, dict):
        return Figures()
    return Figures(
        _number(value.get("window_s")),
        _count(value.get("sent")),
        _count(value.get("answered")),
        _number(value.get("loss_pct")),
        _number(value.get("latency_ms")),
        _number(value.get("jitter_ms")),
    )


def _classes(value: Any) -> dict[str, ClassReport]:
    out: dict[str, ClassReport] = {}
    if not isinstance(value, dict):
        return out
    for name, item in value.items():
        if not isinstance(name, str) or not isinstance(item, dict):
            continue
        try:
            verdict = ClassVerdict(str(item.get("state")))
        except ValueError:
            continue
        out[name] = ClassReport(
            verdict, _number(item.get("since")) or 0.0, _text(item.get("reason")) or ""
        )
    return out


def parse_uplink(uplink_id: str, value: Any) -> UplinkReport | None:
    if not isinstance(value, dict):
        return None
    state = value.get("state")
    if state not in _STATES:
        return None
    return UplinkReport(
        uplink_id,
        str(state),
        _number(value.get("since")) or 0.0,
        _figures(value.get("short")),
        _figures(value.get("long")),
        _classes(value.get("classes")),
        _text(value.get("local_address"), 45),
        _text(value.get("interface"), 15),
    )


def parse_line(line: dict[str, Any]) -> tuple[str, dict[str, UplinkReport]]:
    """(kind, uplink id -> report) of one stream line or snapshot; kind is
    ``snapshot`` when the line does not say."""
    kind = line.get("kind")
    uplinks = line.get("uplinks")
    reports: dict[str, UplinkReport] = {}
    if isinstance(uplinks, dict):
        for uplink_id, value in uplinks.items():
            report = parse_uplink(str(uplink_id), value)
            if report is not None:
                reports[report.uplink_id] = report
    return (kind if kind in ("snapshot", "change", "summary") else "snapshot"), reports
