"""What the gate reads: the store (desired neighbors and announcements, the live view
of each session, object status) and the routers (their global RIB, one read per
router and address family, for the prefixes that matter; each site's intents checked
afresh). Every network read shares one deadline: a router not read by then is
recorded as unreachable, with the reason, never waited for."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from sdwan.domain.status import Status
from sdwan.errors import SpeakerTimeout
from sdwan.rollout.gate_model import CustomCheck, IntentHealth, NeighborHealth, PathHealth
from sdwan.service import intent_observe
from sdwan.service.intent_observe import FibReader, PlanLimits, RibSource, RibSources
from sdwan.store import gate_repo, intent_repo, owned_rows, repo
from sdwan.store.intent_repo import IntentRecord
from sdwan.store.records import AnnouncementRecord, RouterRecord

WORKERS = 8  # routers and sites read at once
_PREDICTED = ("uplink", "via", "neighbor", "next_hop")  # of a prediction, in a failure


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self._ends - time.monotonic())


@dataclass
class RouterPlan:
    """One router as the store says it should be, and what to read of it."""

    record: RouterRecord
    neighbors: dict[str, NeighborHealth] = field(default_factory=dict)
    announcements: frozenset[str] = frozenset()
    lookups: frozenset[str] = frozenset()


def load_routers(
    conn: Connection, router_ids: Sequence[str], checks: Sequence[CustomCheck]
) -> dict[str, RouterPlan]:
    """The routers of ``router_ids`` and of the checks (by id or name) that exist and
    are not being deleted, by id."""
    found = repo.get_routers_by_keys(conn, keys=[*router_ids, *(c.router for c in checks)])
    plans = {r.id: RouterPlan(r) for r in found.values() if r.status != Status.PENDING_DELETE}
    ids = list(plans)
    if not ids:
        return plans
    for n in gate_repo.neighbor_sessions(conn, router_ids=ids):
        plans[n.router_id].neighbors[n.id] = NeighborHealth(n.address, n.state, n.enabled)
    for plan in plans.values():
        rows = owned_rows.records_of_router(
            conn, AnnouncementRecord, router_id=plan.record.id, live_only=True
        )
        plan.announcements = frozenset(r.prefix for r in rows)
        mine = {c.prefix for c in checks if c.router in (plan.record.id, plan.record.name)}
        plan.lookups = plan.announcements | mine
    return plans


def read_rib(
    source: RibSource, lookups: frozenset[str], deadline: Deadline
) -> tuple[frozenset[str], frozenset[str]]:
    """(originated, with a best path) among ``lookups``; with none, a ListPeer only
    tells that gobgpd answers. SpeakerError when it does not in time."""
    if not lookups:
        source.peer_sessions(timeout=_timeout(deadline))
        return frozenset(), frozenset()
    originated: set[str] = set()
    best: set[str] = set()
    for family in sorted({_family(p) for p in lookups}):
        wanted = sorted(p for p in lookups if _family(p) == family)
        paths = source.global_paths(family, wanted, timeout=_timeout(deadline))
        for prefix, found in paths.items():
            if prefix not in lookups:
                continue  # a longer prefix inside a looked-up one
            if any(p.neighbor is None for p in found):
                originated.add(prefix)
            if any(p.best for p in found):
                best.add(prefix)
    return frozenset(originated), frozenset(best)


def _timeout(deadline: Deadline) -> float:
    left = deadline.left()
    if left <= 0:
        raise SpeakerTimeout(f"not read within the gate's {deadline.seconds:g} s")
    return left


def _family(prefix: str) -> str:
    return "ipv6-unicast" if ":" in prefix else "ipv4-unicast"


def load_sites(conn: Connection, site_ids: Sequence[str]) -> list[intent_observe.SiteSnapshot]:
    sites = intent_repo.sites_by_ids(conn, ids=list(site_ids))
    return [intent_observe.load_site(conn, sites[i]) for i in site_ids if i in sites]


def site_intents(conn: Connection, snapshot: intent_observe.SiteSnapshot) -> dict[str, str]:
    """intent id -> its name for people: ``site/intent``."""
    site = snapshot.site
    records = intent_repo.owned_of(conn, IntentRecord, site_id=site.id)
    return {r.id: f"{site.name}/{r.name}" for r in records}


def check_site(
    snapshot: intent_observe.SiteSnapshot,
    names: dict[str, str],
    sources: RibSources,
    fib: FibReader | None,
    deadline: Deadline,
    max_steps: int | None,
) -> list[IntentHealth]:
    """Each intent of the site, checked now against what its routers use."""
    limits = PlanLimits(read_seconds=max(deadline.left(), 0.001), max_steps=max_steps)
    observation = intent_observe.observe(snapshot, sources, fib=fib, limits=limits)
    found = []
    for intent_id, check in observation.checks.items():
        paths = tuple(
            PathHealth(
                p.router,
                p.prefix,
                str(p.verdict),
                p.reason,
                {k: p.predicted.get(k) for k in _PREDICTED},
                p.actual,
            )
            for p in check.paths
        )
        name = names.get(intent_id, intent_id)
        found.append(IntentHealth(intent_id, name, str(check.verdict), check.detail, paths))
    return found


def run_all(tasks: Sequence[Callable[[], Any]]) -> list[Any]:
    """The tasks' results in order, a few at a time (each bounds its own reads)."""
    if not tasks:
        return []
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(tasks))) as pool:
        return list(pool.map(lambda task: task(), tasks))


def pending(conn: Connection, router_ids: Sequence[str]) -> list[str]:
    """Objects of these routers not applied at their desired version, by name."""
    return [
        f"{u.kind} {u.key}"
        + ("" if u.kind == "router" else f" on {u.router}")
        + f": {u.status}"
        + (f": {u.detail}" if u.detail else "")
        for u in gate_repo.unapplied(conn, router_ids=router_ids)
    ]
