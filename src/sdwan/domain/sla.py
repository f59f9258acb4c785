"""SLA classes and steering: which uplinks an intent prefers now, given measured
quality. Pure: no clock, no I/O; the caller passes ``now`` and what the probe agents
reported.

An **SLA class** sets limits on loss (%), latency (round-trip, ms) and jitter (ms).
The probe agent beside each router evaluates every class that applies to each of its
uplinks on every probe: ``violated`` as soon as the short window exceeds the class
with statistical confidence, ``met`` once the long window is within it, otherwise
unchanged. It also says when an uplink is ``dead`` (probes stopped being answered
while the session may still be up). This module turns those states into moves of an
intent's uplinks between its tiers, with the time rules that keep traffic steady:

- **demote at once**: an uplink that violates the intent's class (or is dead) leaves
  its tier and goes below every tier that meets the class; demoted uplinks keep their
  order among themselves by measured quality (dead last);
- **return after a hold-down**: a demoted uplink returns to its tier once it has met
  the class without a break for ``hold_down`` seconds;
- **a minimum time between moves** of one uplink (``min_interval``): an uplink that
  just returned is not demoted again sooner, unless it is dead (the FIB agent beside
  the router has moved the traffic already; the policy follows);
- **flap damping**: an uplink demoted again within ``damping_window`` of its return
  waits twice as long before its next return (up to ``max_hold_down``); a quiet
  ``damping_window`` forgets it;
- **nothing meets the class**: every uplink is demoted; the best by measured quality
  carries the traffic, and the note says so;
- an uplink without measurements (no agent, no target, no samples yet) is never moved.

The order among demoted uplinks (best measured first) is fixed when a move is made and
kept until the next one (``Steering.order``): quality that drifts between two moves
reorders nothing, so the compiled policy changes only on a move.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdwan.domain.intent import IntentName
from sdwan.domain.quality import ClassLimits

__all__ = [
    "LIMITS",
    "ClassReport",
    "Demotion",
    "Move",
    "SlaClass",
    "SlaClassSpec",
    "Steered",
    "Steering",
    "UplinkQuality",
    "effective_tiers",
    "exceeds",
    "severity",
    "steer",
    "steered_tiers",
]

DEAD_REASON = "dead: probes unanswered"
LIMITS = ("loss_pct", "latency_ms", "jitter_ms")  # an SLA class sets at least one
NO_LIMIT = "an SLA class needs at least one of loss_pct, latency_ms, jitter_ms"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


Seconds = Annotated[float, Field(ge=1, le=86400)]
LossLimit = Annotated[float, Field(ge=0, le=100)]  # %
TimeLimit = Annotated[float, Field(gt=0, le=60000)]  # ms


class SlaClassSpec(_Strict):
    """An SLA class as the API and the fleet file take it: at least one limit."""

    name: IntentName
    loss_pct: LossLimit | None = Field(default=None, description="loss limit, %")
    latency_ms: TimeLimit | None = Field(default=None, description="round-trip time limit, ms")
    jitter_ms: TimeLimit | None = Field(
        default=None, description="jitter limit (mean |delta RTT|), ms"
    )
    hold_down_s: Seconds = Field(
        default=30.0, description="a demoted uplink returns after meeting the class this long"
    )
    min_interval_s: Seconds = Field(
        default=10.0, description="at least this long between two moves of one uplink"
    )
    description: Annotated[str, Field(max_length=1024)] = ""

    @model_validator(mode="after")
    def _some_limit(self) -> SlaClassSpec:
        if self.loss_pct is None and self.latency_ms is None and self.jitter_ms is None:
            raise ValueError(NO_LIMIT)
        return self


@dataclass(frozen=True)
class SlaClass:
    """The limits and time rules of one class, as the steering reads them."""

    name: str
    loss_pct: float | None = None
    latency_ms: float | None = None
    jitter_ms: float | None = None
    hold_down: float = 30.0
    min_interval: float = 10.0
    max_hold_down: float = 600.0
    damping_window: float = 300.0

    def limits(self) -> ClassLimits:
        """What the probe agents check of this class."""
        return ClassLimits(self.name, self.loss_pct, self.latency_ms, self.jitter_ms)


class ClassVerdict(StrEnum):
    MET = "met"
    VIOLATED = "violated"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ClassReport:
    """What an agent says of one uplink against one class."""

    state: ClassVerdict
    since: float
    reason: str = ""


@dataclass(frozen=True)
class UplinkQuality:
    """One uplink as its agent reports it: ``state`` up | dead | unknown, the long
    window's figures (None: not measured), and the state per class name."""

    state: str = "unknown"
    since: float = 0.0
    loss_pct: float | None = None
    latency_ms: float | None = None
    jitter_ms: float | None = None
    classes: Mapping[str, ClassReport] = field(default_factory=dict)

    def measured(self) -> bool:
        return self.state in ("up", "dead")


_UNMEASURED = UplinkQuality()


def exceeds(quality: UplinkQuality, sla: SlaClass) -> list[str]:
    """The class's limits the long-window figures exceed, for people: ``loss 6.1 % >
    1 %``. Display only: decisions take the agent's class states."""
    out = []
    pairs = (
        ("loss", quality.loss_pct, sla.loss_pct, "%"),
        ("latency", quality.latency_ms, sla.latency_ms, "ms"),
        ("jitter", quality.jitter_ms, sla.jitter_ms, "ms"),
    )
    for label, value, limit, unit in pairs:
        if value is not None and limit is not None and value > limit:
            out.append(f"{label} {_figure(value)} {unit} > {_figure(limit)} {unit}")
    return out


def _figure(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def severity(quality: UplinkQuality, sla: SlaClass) -> float:
    """How far an uplink is from its class (lower is better): the largest ratio of a
    measured figure to its limit; dead or unmeasured ranks last."""
    if quality.state != "up":
        return math.inf
    ratios = [0.0]
    pairs = (
        (quality.loss_pct, sla.loss_pct),
        (quality.latency_ms, sla.latency_ms),
        (quality.jitter_ms, sla.jitter_ms),
    )
    for value, limit in pairs:
        if value is not None and limit is not None:
            ratios.append(value / limit if limit > 0 else (math.inf if value > 0 else 0.0))
    return max(ratios)


@dataclass(frozen=True)
class Demotion:
    """An uplink the steering moved below the tiers that meet the class."""

    uplink: str
    since: float  # demoted at
    reason: str  # "loss 6.1 % > 1 %", or DEAD_REASON
    hold_down: float  # what it must meet the class for before it returns
    met_since: float | None = None  # meets the class again since (None: not now)


@dataclass(frozen=True)
class Steering:
    """The steering state of one intent, stored between decisions."""

    demoted: Mapping[str, Demotion] = field(default_factory=dict)
    returned_at: Mapping[str, float] = field(default_factory=dict)  # uplink -> last return
    last_hold: Mapping[str, float] = field(default_factory=dict)  # uplink -> its last hold-down
    order: tuple[str, ...] = ()  # the demoted uplinks, best measured first (at the last move)

    def to_json(self) -> dict[str, Any]:
        """The stored form (``intent_steering.state``)."""
        return {
            "demoted": {
                name: {
                    "since": d.since,
                    "reason": d.reason,
                    "hold_down": d.hold_down,
                    "met_since": d.met_since,
                }
                for name, d in self.demoted.items()
            },
            "returned_at": dict(self.returned_at),
            "last_hold": dict(self.last_hold),
            "order": list(self.order),
        }

    @classmethod
    def from_json(cls, data: Any) -> Steering:
        """The stored form back; anything malformed reads as nothing demoted."""
        if not isinstance(data, dict):
            return cls()
        try:
            demoted = {
                str(name): Demotion(
                    str(name),
                    float(d["since"]),
                    str(d["reason"]),
                    float(d["hold_down"]),
                    None if d.get("met_since") is None else float(d["met_since"]),
                )
                for name, d in (data.get("demoted") or {}).items()
            }
            returned = {str(k): float(v) for k, v in (data.get("returned_at") or {}).items()}
            holds = {str(k): float(v) for k, v in (data.get("last_hold") or {}).items()}
            order = tuple(str(n) for n in data.get("order") or ())
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls()
        return cls(demoted, returned, holds, order)


@dataclass(frozen=True)
class Steered:
    """What steering makes of one intent, as the compiler, the verification and the
    plan read it: the class, the tiers in force and why each demoted uplink left."""

    sla: str  # the class's name
    tiers: list[list[str]]  # the effective tiers (compiled)
    demoted: Mapping[str, str] = field(default_factory=dict)  # uplink -> reason
    note: str = ""  # "no uplink meets gold: ..." or ""

    @classmethod
    def of(cls, tiers: Sequence[Sequence[str]], steering: Steering, sla: str) -> Steered:
        """The tiers in force of an intent with these tiers and this steering state."""
        names = [name for tier in tiers for name in tier]
        result = steered_tiers(tiers, steering)
        demoted = {n: d.reason for n, d in steering.demoted.items() if n in names}
        return cls(sla, result, demoted, _note(names, demoted, result, sla))


def _note(
    names: Sequence[str], demoted: Mapping[str, Any], tiers: list[list[str]], sla: str
) -> str:
    if not names or not all(n in demoted for n in names):
        return ""
    best = tiers[0][0] if tiers else names[0]
    return f"no uplink meets {sla}: the best measured, {best}, carries the traffic"


@dataclass(frozen=True)
class Move:
    uplink: str
    kind: str  # "demote" | "return"
    reason: str


@dataclass(frozen=True)
class Decision:
    steering: Steering
    moves: list[Move]
    tiers: list[list[str]]  # the tiers to compile now
    note: str  # "" or why the traffic is where it is ("no uplink meets gold: ...")


def _violation(quality: UplinkQuality, sla: SlaClass) -> str | None:
    """Why the uplink must leave its tier now, or None."""
    if quality.state == "dead":
        return DEAD_REASON
    state = quality.classes.get(sla.name)
    if quality.state == "up" and state is not None and state.state == ClassVerdict.VIOLATED:
        return state.reason or ", ".join(exceeds(quality, sla)) or f"violates {sla.name}"
    return None


def _meets(quality: UplinkQuality, sla: SlaClass) -> bool:
    state = quality.classes.get(sla.name)
    return quality.state == "up" and state is not None and state.state == ClassVerdict.MET


def steer(
    tiers: Sequence[Sequence[str]],
    sla: SlaClass,
    quality: Mapping[str, UplinkQuality],
    steering: Steering,
    now: float,
) -> Decision:
    """One decision for one intent: the moves due now, the new state, the tiers."""
    names = [name for tier in tiers for name in tier]
    demoted = {n: d for n, d in steering.demoted.items() if n in names}
    returned = dict(steering.returned_at)
    holds = dict(steering.last_hold)
    moves: list[Move] = []
    for name in names:
        seen = quality.get(name, _UNMEASURED)
        reason = _violation(seen, sla)
        current = demoted.get(name)
        if current is None:
            if reason is None:
                continue
            last = returned.get(name)
            if last is not None and now - last < sla.min_interval and reason != DEAD_REASON:
                continue  # just returned: not again so soon
            flapped = last is not None and now - last < sla.damping_window
            hold = sla.hold_down
            if flapped:  # demoted again soon after its return: twice the wait
                hold = min(holds.get(name, sla.hold_down) * 2, sla.max_hold_down)
            demoted[name] = Demotion(name, now, reason, hold)
            holds[name] = hold
            moves.append(Move(name, "demote", reason))
            continue
        if reason is not None:
            if current.met_since is not None or current.reason != reason:
                demoted[name] = replace(current, met_since=None, reason=reason)
            continue
        if not _meets(seen, sla):
            if current.met_since is not None:
                demoted[name] = replace(current, met_since=None)
            continue
        met_since = current.met_since if current.met_since is not None else now
        if now - met_since >= current.hold_down and now - current.since >= sla.min_interval:
            del demoted[name]
            returned[name] = now
            moves.append(Move(name, "return", f"met {sla.name} for {current.hold_down:g} s"))
        elif current.met_since is None:
            demoted[name] = replace(current, met_since=met_since)
    for name, last in list(returned.items()):  # a quiet damping window forgets a flap
        if name not in demoted and now - last >= sla.damping_window:
            del returned[name]
            holds.pop(name, None)
    order = tuple(n for n in steering.order if n in demoted)
    if moves or set(order) != set(demoted):  # a move: rank the demoted ones anew
        ranked = effective_tiers(tiers, Steering(demoted), quality, sla)
        order = tuple(t[0] for t in ranked if len(t) == 1 and t[0] in demoted)
    state = Steering(demoted, returned, holds, order)
    result = steered_tiers(tiers, state)
    return Decision(state, moves, result, _note(names, demoted, result, sla.name))


def steered_tiers(tiers: Sequence[Sequence[str]], steering: Steering) -> list[list[str]]:
    """The tiers to compile: the intent's without its demoted uplinks, then the demoted
    ones, each a tier of its own, in the order of the last move (others: by tier)."""
    kept = [[n for n in tier if n not in steering.demoted] for tier in tiers]
    rank = {name: index for index, tier in enumerate(tiers) for name in tier}
    position = {name: index for index, name in enumerate(steering.order)}
    down = [n for n in rank if n in steering.demoted]
    down.sort(key=lambda n: (position.get(n, len(position)), rank[n], n))
    return [tier for tier in kept if tier] + [[n] for n in down]


def effective_tiers(
    tiers: Sequence[Sequence[str]],
    steering: Steering,
    quality: Mapping[str, UplinkQuality],
    sla: SlaClass,
) -> list[list[str]]:
    """The intent's tiers without its demoted uplinks, then the demoted ones, each a
    tier of its own, best measured first (ties: their original order)."""
    kept = [[n for n in tier if n not in steering.demoted] for tier in tiers]
    result = [tier for tier in kept if tier]
    rank = {name: index for index, tier in enumerate(tiers) for name in tier}
    down = [n for n in rank if n in steering.demoted]
    down.sort(key=lambda n: (severity(quality.get(n, _UNMEASURED), sla), rank[n], n))
    return result + [[n] for n in down]
