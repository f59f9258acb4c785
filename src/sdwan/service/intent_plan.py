"""``sdwan intent plan``: what an intent change would do, before it is made.

The change runs through the same service calls as the real one, in a transaction that
is thrown away (on SQLite: on a private in-memory copy of the desired state, so the
database's write lock is never held), which gives the policy objects it would generate
and the policies every router of the site would then have. The prediction then reads
what the site's gobgpds hold now (adj-RIB-in) and runs it through those policies and
gobgpd's decision process, router by router, next to the best path each uses today."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.domain.intent_verdict import PathCheck
from sdwan.domain.policy_compile import DIRECTIONS, CompiledRouterPolicy
from sdwan.domain.status import Status
from sdwan.schemas.intents import IntentCreate, IntentUpdate
from sdwan.service import intent_observe, intent_sync
from sdwan.service.common import NoNotifier
from sdwan.service.intent_observe import (
    FibReader,
    Observation,
    PlanLimits,
    RibSources,
    SiteSnapshot,
)
from sdwan.service.intent_steering import stored_form
from sdwan.service.intents import IntentService
from sdwan.service.uow import UnitOfWork, reading, unit_of_work
from sdwan.service.visibility import SITE, visible_owner
from sdwan.store import generated_repo, intent_repo, quality_repo, repo
from sdwan.store.intent_repo import IntentRecord, SiteRecord
from sdwan.store.snapshot import desired_state_copy, sqlite_file


@contextmanager
def throwaway(engine: Engine) -> Iterator[UnitOfWork]:
    """A unit of work whose writes are rolled back at the end."""
    if sqlite_file(engine) is not None:
        with desired_state_copy(engine) as copy, unit_of_work(copy, commit=False) as work:
            yield work
        return
    with unit_of_work(engine, commit=False) as work:
        yield work


def _rows(conn: Connection, router_ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """router -> "kind name" (a label object_changes prints) -> the generated object's
    content, as the intent compiler decides it."""
    return {
        router_id: {
            f"{generated_repo.LABELS[type(r)]} {r.key}": r.values()
            for r in generated_repo.generated_rows(conn, router_id=router_id)
            if r.status != Status.PENDING_DELETE
        }
        for router_id in router_ids
    }


def object_changes(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    out = []
    for label in sorted(set(before) | set(after)):
        if label not in before:
            out.append(f"+ {label}")
        elif label not in after:
            out.append(f"- {label}")
        elif before[label] != after[label]:
            out.append(f"~ {label}")
    return out


def session_effects(
    before: CompiledRouterPolicy | None, after: CompiledRouterPolicy, neighbors: list[str]
) -> list[str]:
    """What gobgpd's sessions see: a soft reset per direction whose policy changes."""
    effects = []
    for direction in DIRECTIONS:
        old = before.assignments.get(direction) if before is not None else None
        if old != after.assignments.get(direction):
            way = "in" if direction == "import" else "out"
            who = ", ".join(neighbors) or "no neighbors"
            effects.append(f"{direction} policy changes: soft reset ({way}) of {who}")
    return effects or ["no policy change on gobgpd"]


def steered_snapshot(conn: Connection, site: SiteRecord) -> SiteSnapshot:
    """The site as a plan predicts it, in a throwaway transaction: the steering
    decisions due now (an SLA class's demotions and returns) written and compiled, so
    the prediction uses the tiers they would put in force; each intent's steering is
    the decision's (what moves, and why)."""
    now = time.time()
    snapshot = intent_observe.load_site(conn, site, decide_at=now)
    due = {i: steering for i, steering in snapshot.steering.items() if steering.moves_due()}
    if not due:
        return snapshot
    stamp = datetime.fromtimestamp(now, UTC)
    for intent_id, steering in due.items():
        assert steering.decision is not None
        state = stored_form(steering.decision.steering, steering.class_id)
        quality_repo.put_steering(conn, intent_id=intent_id, state=state, updated_at=stamp)
    intent_sync.sync(conn, NoNotifier(), site_ids=[site.id])
    steered = intent_observe.load_site(conn, site)
    steered.steering = snapshot.steering  # the decisions, with their moves
    steered.status = snapshot.status  # predicted as applied
    return steered


class IntentPlanner:
    def __init__(
        self,
        *,
        engine: Engine,
        intents: IntentService,
        sources: RibSources,
        fib: FibReader | None = None,
        limits: PlanLimits | None = None,
    ) -> None:
        self._engine = engine
        self._intents = intents
        self._sources = sources
        self._fib = fib
        self._limits = limits or PlanLimits()  # each plan's reads and evaluation

    def plan(self, principal: Principal, *, intent: IntentCreate) -> dict[str, Any]:
        """The plan of creating (or, when the site has one of that name, changing)
        ``intent``. Nothing is changed."""
        values = intent.model_dump(mode="json")
        principal.require_write()
        with throwaway(self._engine) as work:
            conn = work.conn
            site = visible_owner(conn, principal, SITE, values["site"], field="site")
            routers = [m.router_uuid for m in site.routers]
            before = _rows(conn, routers)
            policy_before = intent_observe.load_site(conn, site).policy
            existing = intent_repo.owned_by_name(
                conn, IntentRecord, site_id=site.id, name=values["name"]
            )
            if existing is None:
                self._intents.create(principal, intent=intent)
                action = "create"
            else:
                changes = IntentUpdate(
                    destination=intent.destination,
                    prefer=intent.prefer,
                    return_path=intent.return_path,
                    sla_class=intent.sla_class,
                    description=intent.description,
                )
                self._intents.update(principal, existing.id, changes=changes, if_match=None)
                action = "update"
            after = _rows(conn, routers)
            updated = intent_repo.get_site(conn, key=site.id)
            assert updated is not None
            snapshot = steered_snapshot(conn, updated)
            names = repo.router_names(conn, router_ids=routers)
            neighbors = {
                r: sorted(n.address for n in repo.neighbors_of(conn, router_id=r)) for r in routers
            }
            target = intent_repo.owned_by_name(
                conn, IntentRecord, site_id=site.id, name=values["name"]
            )
            assert target is not None
        objects = []
        for router_id in routers:
            changed = object_changes(before.get(router_id, {}), after.get(router_id, {}))
            if changed:
                objects.append(
                    {
                        "router": names.get(router_id, router_id),
                        "changes": changed,
                        "effects": session_effects(
                            policy_before.get(router_id),
                            snapshot.policy[router_id],
                            neighbors[router_id],
                        ),
                    }
                )
        observation = self._observe(snapshot)
        return {
            "site": site.name,
            "intent": values["name"],
            "action": action if objects else "none",
            "objects": objects,
            "prediction": _prediction(observation, target.id),
        }

    def current(self, principal: Principal, intent_id: str) -> dict[str, Any]:
        """The intent as it stands: the prediction from what the routers hold now,
        next to the best path each really uses."""
        with reading(self._engine) as conn:
            intent, site = self._intents.found(conn, principal, intent_id)
            snapshot = intent_observe.load_site(conn, site, decide_at=time.time())
        if any(s.moves_due() for s in snapshot.steering.values()):
            with throwaway(self._engine) as work:
                snapshot = steered_snapshot(work.conn, site)
        observation = intent_observe.observe(
            snapshot, self._sources, fib=self._fib, limits=self._limits
        )
        return {
            "site": site.name,
            "intent": intent.name,
            "action": "none",
            "objects": [],
            "prediction": _prediction(observation, intent.id),
        }

    def _observe(self, snapshot: SiteSnapshot) -> Observation:
        observation = intent_observe.observe(snapshot, self._sources, fib=None, limits=self._limits)
        intent_observe.recheck(observation, compare=False)
        return observation

    def snapshot_for(self, conn: Connection, site_key: str) -> SiteSnapshot | None:
        """For the fleet plan: the site as the (throwaway) transaction has it."""
        site = intent_repo.get_site(conn, key=site_key)
        return steered_snapshot(conn, site) if site is not None else None

    def predict(self, snapshot: SiteSnapshot) -> list[dict[str, Any]]:
        observation = self._observe(snapshot)
        return [
            {"intent": intent.name, **_prediction(observation, intent.id)}
            for intent in snapshot.site.intents
        ]


def _path(check: PathCheck, observation: Observation, router_ids: dict[str, str]) -> dict[str, Any]:
    data = asdict(check)
    current = observation.actual.get((router_ids.get(check.router, ""), check.prefix))
    data["current"] = (
        {"neighbor": current.neighbor, "next_hop": current.next_hop, "uplink": current.uplink}
        if current is not None and current.present
        else None
    )
    best = check.predicted.get("neighbor")
    data["moves"] = data["current"] is not None and data["current"]["neighbor"] != best
    data.pop("actual", None)
    return data


def _prediction(observation: Observation, intent_id: str) -> dict[str, Any]:
    check = observation.checks[intent_id]
    router_ids = {t.name: t.id for t in observation.snapshot.routers}
    steering = observation.snapshot.steering.get(intent_id)
    return {
        "verdict": str(check.verdict),
        "detail": check.detail,
        "unreachable": observation.unreachable,
        "paths": [_path(p, observation, router_ids) for p in check.paths],
        "sla": steering.public() if steering is not None else None,
    }
