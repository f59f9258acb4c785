"""The health gate of a staged rollout: ``capture`` a snapshot of the wave's routers
and sites before the wave and after it (once ``pending`` is empty), then ``judge`` the
two. Checks: sessions that were up stay up, routers answer, prefixes announced stay
announced, intents do not turn worse, verified predictions hold, and the operator's
custom checks (``rib_has:R1:198.51.100.0/24``, ``rib_lacks:...``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Engine

from sdwan.config import Settings
from sdwan.errors import SpeakerError
from sdwan.fib.status import read_routes
from sdwan.rollout import gate_capture as read
from sdwan.rollout.gate_capture import Deadline, RouterPlan
from sdwan.rollout.gate_judge import judge as judge_snapshots
from sdwan.rollout.gate_model import (
    CustomCheck,
    GateFailure,
    HealthSnapshot,
    IntentHealth,
    RouterHealth,
)
from sdwan.service.intent_observe import FibReader, RibSources
from sdwan.service.uow import reading

__all__ = ["CustomCheck", "GateFailure", "GateProbe", "HealthSnapshot"]


class RuntimeParts(Protocol):
    """What the probe takes from sdwan.runtime.Runtime (not imported: it is above us)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def engine(self) -> Engine: ...
    @property
    def rib_sources(self) -> RibSources: ...


class GateProbe:
    def __init__(
        self,
        *,
        engine: Engine,
        sources: RibSources,
        fib: FibReader | None = None,
        timeout: float = 10.0,
        max_steps: int | None = None,
    ) -> None:
        """``sources``: a router's endpoint -> a gobgpd client (adding the default CA);
        ``timeout``: what one capture may take for all its network reads together;
        ``max_steps``: the bound of an intent prediction's policy evaluation."""
        self._engine = engine
        self._sources = sources
        self._fib = fib
        self._timeout = timeout
        self._max_steps = max_steps

    @classmethod
    def from_runtime(cls, runtime: RuntimeParts) -> GateProbe:
        """The probe of a built runtime: ``GateProbe.from_runtime(build_runtime(s))``."""
        settings = runtime.settings
        return cls(
            engine=runtime.engine,
            sources=runtime.rib_sources,
            fib=read_routes,
            timeout=settings.rib_timeout,
            max_steps=settings.plan_max_steps,
        )

    def capture(
        self,
        *,
        router_ids: Sequence[str],
        site_ids: Sequence[str],
        checks: Sequence[CustomCheck] = (),
    ) -> HealthSnapshot:
        """The routers (and the routers the checks name), and each intent of the sites.
        Takes ``timeout`` seconds at most, whatever the routers do."""
        with reading(self._engine) as conn:
            plans = read.load_routers(conn, router_ids, checks)
            sites = read.load_sites(conn, site_ids)
            names = {i: n for s in sites for i, n in read.site_intents(conn, s).items()}
        deadline = Deadline(self._timeout)
        taken = time.time()
        router_tasks = [lambda p=p: self._router(p, deadline) for p in plans.values()]
        site_tasks = [
            lambda s=s: read.check_site(
                s, names, self._sources, self._fib, deadline, self._max_steps
            )
            for s in sites
        ]
        results = read.run_all([*router_tasks, *site_tasks])
        routers: list[RouterHealth] = results[: len(router_tasks)]
        intents: list[IntentHealth] = [i for found in results[len(router_tasks) :] for i in found]
        return HealthSnapshot(
            taken, routers={r.id: r for r in routers}, intents={i.id: i for i in intents}
        )

    def _router(self, plan: RouterPlan, deadline: Deadline) -> RouterHealth:
        record = plan.record
        error: str | None = None
        originated = best = frozenset[str]()
        source = self._sources(record.endpoint())
        try:
            originated, best = read.read_rib(source, plan.lookups, deadline)
        except SpeakerError as exc:
            error = exc.message
            if deadline.left() <= 0:
                error = f"gobgpd at {record.api_address} did not answer within {self._timeout:g} s"
        finally:
            source.close()
        return RouterHealth(
            record.id,
            record.name,
            error,
            dict(plan.neighbors),
            plan.announcements,
            originated,
            best,
            plan.lookups if error is None else frozenset(),
        )

    def pending(self, *, router_ids: Sequence[str]) -> list[str]:
        """Objects of these routers not applied at their desired version, by name
        (``neighbor 198.18.1.1 on r1: PENDING_UPDATE``; an error with its detail);
        [] when every one is applied."""
        with reading(self._engine) as conn:
            return read.pending(conn, router_ids)

    def judge(
        self,
        before: HealthSnapshot,
        after: HealthSnapshot,
        *,
        checks: Sequence[CustomCheck] = (),
    ) -> list[GateFailure]:
        """What got worse from ``before`` to ``after``; [] when the wave is healthy."""
        return judge_snapshots(before, after, checks=checks)
