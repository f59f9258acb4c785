"""The probe agent's configuration (``PUT /config``): parsed and checked, every error
naming its field (``uplinks[1].neighbor``)."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import Any, Literal

from sdwan.domain.quality import DEFAULT_RATE, DEFAULT_TIMEOUT_S, ClassLimits, QualityInputError

__all__ = ["MAX_UPLINKS", "ProbeConfig", "UplinkConfig", "parse_config"]

MAX_UPLINKS = 64
MAX_RATE = 2000.0
Method = Literal["udp", "icmp"]
_FIELDS = {
    "id",
    "name",
    "neighbor",
    "method",
    "target",
    "port",
    "rate",
    "timeout_ms",
    "classes",
}


@dataclass(frozen=True)
class UplinkConfig:
    id: str
    name: str
    neighbor: str
    method: Method
    target: str | None  # None: not probed yet (the orchestrator knows no target)
    port: int
    rate: float | None
    timeout_ms: float | None
    classes: tuple[ClassLimits, ...]

    @property
    def effective_rate(self) -> float:
        return DEFAULT_RATE if self.rate is None else self.rate

    @property
    def effective_timeout_s(self) -> float:
        return DEFAULT_TIMEOUT_S if self.timeout_ms is None else self.timeout_ms / 1000.0

    @property
    def v6(self) -> bool:
        return ":" in self.neighbor

    def path(self) -> tuple[object, ...]:
        """What the probes depend on (a change restarts the measurement)."""
        return (self.neighbor, self.method, self.target, self.port, self.rate, self.timeout_ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "neighbor": self.neighbor,
            "method": self.method,
            "target": self.target,
            "port": self.port,
            "rate": self.rate,
            "timeout_ms": self.timeout_ms,
            "classes": [c.to_json() for c in self.classes],
        }


@dataclass(frozen=True)
class ProbeConfig:
    generation: int = 0
    uplinks: tuple[UplinkConfig, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"generation": self.generation, "uplinks": [u.to_json() for u in self.uplinks]}


def parse_config(body: Any) -> ProbeConfig:
    """Raises QualityInputError(field, message) on the first problem."""
    if not isinstance(body, dict):
        raise QualityInputError("body", "expected a JSON object")
    unknown = sorted(set(body) - {"generation", "uplinks"})
    if unknown:
        raise QualityInputError(unknown[0], "unknown field")
    generation = body.get("generation", 0)
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        raise QualityInputError("generation", "expected a whole number >= 0")
    uplinks = body.get("uplinks", [])
    if not isinstance(uplinks, list):
        raise QualityInputError("uplinks", "expected a list")
    if len(uplinks) > MAX_UPLINKS:
        raise QualityInputError("uplinks", f"at most {MAX_UPLINKS} uplinks")
    parsed = tuple(_uplink(u, f"uplinks[{i}]") for i, u in enumerate(uplinks))
    seen: set[str] = set()
    for i, uplink in enumerate(parsed):
        if uplink.id in seen:
            raise QualityInputError(f"uplinks[{i}].id", f"{uplink.id!r} appears twice")
        seen.add(uplink.id)
    return ProbeConfig(generation, parsed)


def _uplink(body: Any, where: str) -> UplinkConfig:
    if not isinstance(body, dict):
        raise QualityInputError(where, "expected an object")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise QualityInputError(f"{where}.{unknown[0]}", "unknown field")
    ident = _text(body.get("id"), f"{where}.id", 1, 64)
    name = _text(body.get("name", ident), f"{where}.name", 0, 128)
    neighbor = _address(body.get("neighbor"), f"{where}.neighbor")
    raw_target = body.get("target")
    target = None if raw_target is None else _address(raw_target, f"{where}.target")
    if target is not None and (":" in neighbor) != (":" in target):
        raise QualityInputError(f"{where}.target", "must be of the neighbor's address family")
    method = body.get("method", "udp")
    if method not in ("udp", "icmp"):
        raise QualityInputError(f"{where}.method", "expected 'udp' or 'icmp'")
    port = body.get("port", 862)
    if port is None:
        port = 862
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise QualityInputError(f"{where}.port", "expected a port number (1-65535)")
    rate = _number(body.get("rate"), f"{where}.rate", 1.0, MAX_RATE)
    timeout_ms = _number(body.get("timeout_ms"), f"{where}.timeout_ms", 10.0, 10_000.0)
    classes_body = body.get("classes", [])
    if classes_body is None:
        classes_body = []
    if not isinstance(classes_body, list) or len(classes_body) > 16:
        raise QualityInputError(f"{where}.classes", "expected a list of at most 16 classes")
    classes = tuple(
        ClassLimits.from_json(c, f"{where}.classes[{i}]") for i, c in enumerate(classes_body)
    )
    names = [c.name for c in classes]
    for i, class_name in enumerate(names):
        if class_name in names[:i]:
            raise QualityInputError(f"{where}.classes[{i}].name", f"{class_name!r} appears twice")
    return UplinkConfig(ident, name, neighbor, method, target, port, rate, timeout_ms, classes)


def _text(value: Any, where: str, low: int, high: int) -> str:
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise QualityInputError(where, f"expected a string of {low}-{high} characters")
    return value


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise QualityInputError(where, "expected an IP address")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise QualityInputError(where, f"{value!r} is not an IP address") from None
    if address.is_multicast or address.is_unspecified or address.is_loopback:
        raise QualityInputError(where, f"{value} is not a unicast address of another host")
    return str(address)


def _number(value: Any, where: str, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise QualityInputError(where, "expected a number or null")
    if not low <= value <= high:
        raise QualityInputError(where, f"expected {low:g} to {high:g} (or null: the default)")
    return float(value)
