"""What a link impairment is, checked before anything is touched (pure: no I/O).

One impairment per interface of a lab node: random loss, a blackhole, delay and
jitter, in one or both directions relative to that node's interface. The values and
their limits are documented in docs/lab.md ("Link impairments").
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

__all__ = [
    "DIRECTIONS",
    "LOSS_STEPS",
    "MAX_DELAY_MS",
    "Direction",
    "Impairment",
    "ImpairmentError",
    "parse_target",
]

Direction = Literal["out", "in", "both"]
DIRECTIONS: tuple[Direction, ...] = ("out", "in", "both")
#: Loss is drawn from ``numgen random mod LOSS_STEPS``: 0.01 % steps, exact in expectation.
LOSS_STEPS = 10000
#: A relay holds a delayed packet in the kernel's queue; 10 s of delay at a few thousand
#: packets a second is as much as its queue holds.
MAX_DELAY_MS = 10000.0

_TARGET_RE = re.compile(r"^([a-z0-9][a-z0-9-]*):([A-Za-z0-9_][A-Za-z0-9_.-]{0,14})$")


class ImpairmentError(ValueError):
    """An impairment value a person must correct (the message says which and how)."""


def parse_target(target: str) -> tuple[str, str]:
    """``NODE:IFNAME`` -> (node, ifname)."""
    match = _TARGET_RE.match(target)
    if not match:
        raise ImpairmentError(
            f"{target!r}: give NODE:IFNAME, e.g. r1:e0 (the node's name in the topology "
            "and its interface, with or without the lab prefix)"
        )
    return match.group(1), match.group(2)


def _number(name: str, value: float, low: float, high: float, unit: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ImpairmentError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ImpairmentError(f"{name}: give {low:g} to {high:g} {unit}, got {value!r}")
    return number


@dataclass(frozen=True)
class Impairment:
    """Loss (percent of IP packets), delay and jitter (ms, one way), a blackhole.

    ``direction``: ``out`` (packets leaving the node by the interface), ``in``
    (arriving on it) or ``both``. Drops (loss, blackhole) spare BGP (TCP port 179)
    unless ``include_bgp``; they never touch ARP or IPv6 neighbour discovery, so the
    link stays up. Each delayed packet waits ``delay_ms`` plus a uniform draw from
    ``[-jitter_ms, +jitter_ms]``. All zero is a valid impairment that changes
    nothing (its relay, once started, stays ready).
    """

    loss_pct: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    blackhole: bool = False
    direction: Direction = "both"
    include_bgp: bool = False

    def __post_init__(self) -> None:
        loss = _number("loss", self.loss_pct, 0.0, 100.0, "%")
        steps = loss * LOSS_STEPS / 100
        if abs(steps - round(steps)) > 1e-6:
            raise ImpairmentError(f"loss: give the percentage in steps of 0.01, got {loss!r}")
        delay = _number("delay", self.delay_ms, 0.0, MAX_DELAY_MS, "ms")
        jitter = _number("jitter", self.jitter_ms, 0.0, MAX_DELAY_MS, "ms")
        if jitter > delay:
            raise ImpairmentError(
                f"jitter ({jitter:g} ms) must not exceed the delay ({delay:g} ms): each "
                "packet waits delay ± jitter, and no packet can leave before it arrived"
            )
        if self.direction not in DIRECTIONS:
            raise ImpairmentError(
                f"direction: give one of {', '.join(DIRECTIONS)}, got {self.direction!r}"
            )
        if self.blackhole and loss:
            raise ImpairmentError(
                "a blackhole drops every packet already: give loss or blackhole, not both"
            )
        if self.include_bgp and not (self.blackhole or loss):
            raise ImpairmentError(
                "include_bgp only changes loss and blackholes (delay applies to BGP anyway)"
            )
        object.__setattr__(self, "loss_pct", loss)
        object.__setattr__(self, "delay_ms", delay)
        object.__setattr__(self, "jitter_ms", jitter)
        object.__setattr__(self, "blackhole", bool(self.blackhole))
        object.__setattr__(self, "include_bgp", bool(self.include_bgp))

    @property
    def loss_steps(self) -> int:
        """Loss as a count of :data:`LOSS_STEPS` (500 for 5 %)."""
        return round(self.loss_pct * LOSS_STEPS / 100)

    @property
    def drops(self) -> bool:
        return self.blackhole or self.loss_steps > 0

    @property
    def delays(self) -> bool:
        return self.delay_ms > 0 or self.jitter_ms > 0

    @property
    def directions(self) -> tuple[Literal["out", "in"], ...]:
        return ("out", "in") if self.direction == "both" else (self.direction,)

    def describe(self) -> str:
        parts = []
        if self.blackhole:
            parts.append("blackhole")
        if self.loss_steps:
            parts.append(f"loss {self.loss_pct:g} %")
        if self.delays:
            jitter = f" ± {self.jitter_ms:g}" if self.jitter_ms else ""
            parts.append(f"delay {self.delay_ms:g}{jitter} ms")
        what = ", ".join(parts) or "nothing"
        scope = {"both": "both directions", "out": "out only", "in": "in only"}[self.direction]
        bgp = ""
        if self.drops:
            bgp = ", BGP dropped too" if self.include_bgp else ", BGP spared"
        return f"{what} ({scope}{bgp})"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Impairment:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "direction" in known:
            known["direction"] = cast(Direction, known["direction"])
        return cls(**known)
