"""The gate as the rollout controller uses it: JSON in and out, so what it captured
before the first wave is stored in the rollout's row and a restarted orchestrator
judges against the same snapshot.

The checks themselves are ``rollout/gate.py`` (``GateProbe``: capture, pending,
judge); ``ProbeGate`` puts it behind this interface."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

from sdwan.rollout.gate import CustomCheck, GateProbe, HealthSnapshot


class Gate(Protocol):
    def capture(
        self,
        *,
        router_ids: Sequence[str],
        site_ids: Sequence[str],
        checks: Sequence[dict[str, str]] = (),
    ) -> dict[str, Any]:
        """The health of these routers and sites (and of what the checks name) now, as
        JSON."""
        ...

    def pending(self, *, router_ids: Sequence[str]) -> list[str]:
        """The objects of these routers not applied yet (names); [] once all are."""
        ...

    def judge(
        self, before: dict[str, Any], after: dict[str, Any], checks: Sequence[dict[str, str]]
    ) -> list[dict[str, Any]]:
        """What got worse from ``before`` to ``after`` (router, check, detail, observed,
        predicted); [] when the gate passes."""
        ...


class ProbeGate:
    """A ``GateProbe`` behind the JSON interface."""

    def __init__(self, probe: GateProbe) -> None:
        self._probe = probe

    def capture(
        self,
        *,
        router_ids: Sequence[str],
        site_ids: Sequence[str],
        checks: Sequence[dict[str, str]] = (),
    ) -> dict[str, Any]:
        snapshot = self._probe.capture(
            router_ids=list(router_ids), site_ids=list(site_ids), checks=_checks(checks)
        )
        return snapshot.to_json()

    def pending(self, *, router_ids: Sequence[str]) -> list[str]:
        return self._probe.pending(router_ids=list(router_ids))

    def judge(
        self, before: dict[str, Any], after: dict[str, Any], checks: Sequence[dict[str, str]]
    ) -> list[dict[str, Any]]:
        failures = self._probe.judge(
            HealthSnapshot.from_json(before),
            HealthSnapshot.from_json(after),
            checks=_checks(checks),
        )
        return [_plain(failure.to_json()) for failure in failures]


def _checks(checks: Sequence[dict[str, str]]) -> list[CustomCheck]:
    return [CustomCheck(c["kind"], c["router"], c["prefix"]) for c in checks]


def _plain(value: Any) -> Any:
    """JSON-safe: what a check observed may be a tuple, a set or a dataclass."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
