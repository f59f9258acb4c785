"""The values a rollout's gate works on: a failure it reports, a custom check an
operator asks for, and the health snapshot it compares (taken before a wave and after
it, stored between the two as JSON). Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CUSTOM_KINDS = ("rib_has", "rib_lacks")


@dataclass(frozen=True)
class GateFailure:
    router: str | None  # router name; None: not one router's (an intent of a site)
    check: str  # session, reachable, announced, intent, prediction, rib_has, rib_lacks, apply
    detail: str  # a sentence an operator reads
    observed: Any = None  # JSON-able
    predicted: Any = None  # JSON-able; for "prediction": the predicted path

    def to_json(self) -> dict[str, Any]:
        return {
            "router": self.router,
            "check": self.check,
            "detail": self.detail,
            "observed": self.observed,
            "predicted": self.predicted,
        }


def canonical_prefix(text: str) -> str:
    """``198.51.100.0/24`` as gobgpd writes it; ValueError naming the text otherwise."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=True))
    except ValueError as exc:
        raise ValueError(f"{text.strip()!r} is not a prefix ({exc})") from None


@dataclass(frozen=True)
class CustomCheck:
    kind: str  # rib_has | rib_lacks
    router: str  # router name or id
    prefix: str  # canonical

    @classmethod
    def parse(cls, text: str) -> CustomCheck:
        """``rib_has:R1:198.51.100.0/24`` (the prefix has a best path in R1's global
        RIB) or ``rib_lacks:R1:198.51.100.0/24`` (it has none)."""
        usage = "expected KIND:ROUTER:PREFIX with KIND rib_has or rib_lacks"
        parts = text.strip().split(":", 2)
        if len(parts) != 3:
            raise ValueError(f"custom check {text!r}: {usage}, e.g. rib_has:R1:198.51.100.0/24")
        kind, router, prefix = (p.strip() for p in parts)
        if kind not in CUSTOM_KINDS:
            raise ValueError(f"custom check {text!r}: unknown kind {kind!r}; {usage}")
        if not router:
            raise ValueError(f"custom check {text!r}: no router; {usage}")
        try:
            return cls(kind, router, canonical_prefix(prefix))
        except ValueError as exc:
            raise ValueError(f"custom check {text!r}: {exc}") from None

    def __str__(self) -> str:
        return f"{self.kind}:{self.router}:{self.prefix}"


@dataclass(frozen=True)
class NeighborHealth:
    address: str
    state: str  # the live view's session state (ESTABLISHED, ACTIVE, ..., UNKNOWN)
    enabled: bool = True  # False: the desired state has it administratively down


@dataclass(frozen=True)
class RouterHealth:
    id: str
    name: str
    error: str | None = None  # why its gobgpd was not read; None: it answered
    neighbors: Mapping[str, NeighborHealth] = field(default_factory=dict)  # by neighbor id
    announcements: frozenset[str] = frozenset()  # desired (not being deleted)
    originated: frozenset[str] = frozenset()  # of the looked-up prefixes: originated here
    best: frozenset[str] = frozenset()  # of the looked-up prefixes: with a best path
    looked_up: frozenset[str] = frozenset()  # the prefixes read from its global RIB

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "error": self.error,
            "neighbors": {
                i: {"address": n.address, "state": n.state, "enabled": n.enabled}
                for i, n in sorted(self.neighbors.items())
            },
            "announcements": sorted(self.announcements),
            "originated": sorted(self.originated),
            "best": sorted(self.best),
            "looked_up": sorted(self.looked_up),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RouterHealth:
        return cls(
            id=d["id"],
            name=d["name"],
            error=d.get("error"),
            neighbors={i: NeighborHealth(**n) for i, n in d.get("neighbors", {}).items()},
            announcements=frozenset(d.get("announcements", ())),
            originated=frozenset(d.get("originated", ())),
            best=frozenset(d.get("best", ())),
            looked_up=frozenset(d.get("looked_up", ())),
        )


@dataclass(frozen=True)
class PathHealth:
    """One router and prefix of an intent, as its check found it."""

    router: str  # name
    prefix: str
    verdict: str
    reason: str = ""
    predicted: Any = None  # the predicted best path (uplink, via, neighbor, next hop)
    actual: Any = None  # what the router uses


@dataclass(frozen=True)
class IntentHealth:
    id: str
    name: str  # site/intent
    verdict: str
    detail: str
    paths: tuple[PathHealth, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "verdict": self.verdict,
            "detail": self.detail,
            "paths": [p.__dict__ for p in self.paths],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> IntentHealth:
        paths = tuple(PathHealth(**p) for p in d.get("paths", ()))
        return cls(d["id"], d["name"], d["verdict"], d["detail"], paths)


@dataclass(frozen=True)
class HealthSnapshot:
    """What the gate compares: each captured router (by id) and each intent of the
    captured sites (by id), at ``taken`` (seconds since the epoch)."""

    taken: float
    routers: Mapping[str, RouterHealth] = field(default_factory=dict)
    intents: Mapping[str, IntentHealth] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "taken": self.taken,
            "routers": [r.to_json() for _, r in sorted(self.routers.items())],
            "intents": [i.to_json() for _, i in sorted(self.intents.items())],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> HealthSnapshot:
        routers = (RouterHealth.from_json(r) for r in d.get("routers", ()))
        intents = (IntentHealth.from_json(i) for i in d.get("intents", ()))
        return cls(
            taken=float(d["taken"]),
            routers={r.id: r for r in routers},
            intents={i.id: i for i in intents},
        )

    def router(self, key: str) -> RouterHealth | None:
        """By id or by name."""
        found = self.routers.get(key)
        return found or next((r for r in self.routers.values() if r.name == key), None)
