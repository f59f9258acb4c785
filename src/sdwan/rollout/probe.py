"""The gate as the rollout controller uses it: JSON in and out, so what it captured
before the first wave is stored in the rollout's row and a restarted orchestrator
judges against the same snapshot.

The checks themselves are ``rollout/gate.py`` (``GateProbe``: capture, pending,
judge). ``load_gate`` builds it from the runtime's parts; where that module is not
installed, the minimal ``gate_stub.py`` (sessions that were up must stay up) stands
in."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine


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


class ModuleGate:
    """A ``GateProbe`` of ``module`` behind the JSON interface."""

    def __init__(self, module: Any, probe: Any) -> None:
        self._module = module
        self._probe = probe

    def capture(
        self,
        *,
        router_ids: Sequence[str],
        site_ids: Sequence[str],
        checks: Sequence[dict[str, str]] = (),
    ) -> dict[str, Any]:
        snapshot = self._probe.capture(
            router_ids=list(router_ids), site_ids=list(site_ids), checks=self._checks(checks)
        )
        found: dict[str, Any] = snapshot.to_json()
        return found

    def _checks(self, checks: Sequence[dict[str, str]]) -> list[Any]:
        return [self._module.CustomCheck(**check) for check in checks]

    def pending(self, *, router_ids: Sequence[str]) -> list[str]:
        return [str(name) for name in self._probe.pending(router_ids=list(router_ids))]

    def judge(
        self, before: dict[str, Any], after: dict[str, Any], checks: Sequence[dict[str, str]]
    ) -> list[dict[str, Any]]:
        snapshot = self._module.HealthSnapshot.from_json
        failures = self._probe.judge(snapshot(before), snapshot(after), checks=self._checks(checks))
        return [_plain(dataclasses.asdict(failure)) for failure in failures]


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


def load_gate(
    *,
    engine: Engine,
    sources: Callable[..., Any],
    fib: Any = None,
    timeout: float = 10.0,
    max_steps: int | None = None,
) -> Gate:
    """``GateProbe`` from rollout/gate.py (else gate_stub.py), built from the
    runtime's engine, gobgpd client factory and FIB reader; ``timeout``: what one
    capture may take, ``max_steps``: an intent prediction's evaluation bound."""
    try:
        module = importlib.import_module("sdwan.rollout.gate")
    except ModuleNotFoundError:
        module = importlib.import_module("sdwan.rollout.gate_stub")
    probe = module.GateProbe(
        engine=engine, sources=sources, fib=fib, timeout=timeout, max_steps=max_steps
    )
    return ModuleGate(module, probe)
