"""A minimal stand-in for rollout/gate.py, with its interface: a router's objects are
applied when none is pending or in error in the store; health is each session's
state as the live state holds it; a session up before and not up after fails the
gate. Used where gate.py is not installed (see rollout/probe.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from sdwan.domain.session import ESTABLISHED
from sdwan.domain.status import Status
from sdwan.store import live_repo, repo


@dataclass(frozen=True)
class GateFailure:
    router: str | None
    check: str
    detail: str
    observed: Any = None
    predicted: Any = None


@dataclass(frozen=True)
class CustomCheck:
    kind: str
    router: str
    prefix: str


@dataclass(frozen=True)
class HealthSnapshot:
    sessions: dict[str, dict[str, str]]  # router name -> neighbor address -> state

    def to_json(self) -> dict[str, Any]:
        return {"sessions": self.sessions}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HealthSnapshot:
        return cls({str(k): dict(v) for k, v in (data.get("sessions") or {}).items()})


class GateProbe:
    def __init__(
        self, *, engine: Engine, sources: Callable[..., Any], fib: Any = None, **_bounds: Any
    ) -> None:
        self._engine = engine

    def capture(
        self,
        *,
        router_ids: Sequence[str],
        site_ids: Sequence[str],
        checks: Sequence[CustomCheck] = (),
    ) -> HealthSnapshot:
        sessions: dict[str, dict[str, str]] = {}
        with self._engine.connect() as conn:
            for router in repo.get_routers_by_ids(conn, ids=list(router_ids)):
                live = live_repo.session_records(conn, router_id=router.id)
                sessions[router.name] = {
                    n.address: live[n.id].state if n.id in live else "UNKNOWN"
                    for n in repo.neighbors_of(conn, router_id=router.id)
                }
        return HealthSnapshot(sessions)

    def pending(self, *, router_ids: Sequence[str]) -> list[str]:
        waiting = []
        with self._engine.connect() as conn:
            for router in repo.get_routers_by_ids(conn, ids=list(router_ids)):
                if router.status != Status.ACTIVE:
                    waiting.append(f"router {router.name} ({router.status})")
                for n in repo.neighbors_of(conn, router_id=router.id):
                    if n.status != Status.ACTIVE:
                        waiting.append(f"neighbor {router.name}/{n.address} ({n.status})")
        return waiting

    def judge(
        self,
        before: HealthSnapshot,
        after: HealthSnapshot,
        *,
        checks: Sequence[CustomCheck] = (),
    ) -> list[GateFailure]:
        failures = []
        for router, sessions in before.sessions.items():
            for address, state in sessions.items():
                now = after.sessions.get(router, {}).get(address)
                if state == ESTABLISHED and now is not None and now != ESTABLISHED:
                    failures.append(
                        GateFailure(
                            router,
                            "session_down",
                            f"session with {address} was up, now {now}",
                            observed=now,
                            predicted=ESTABLISHED,
                        )
                    )
        return failures
