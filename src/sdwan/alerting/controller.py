"""The alert controller: one thread that evaluates the enabled alert rules
(alerting/evaluate.py) when something they watch happened, when a condition reaches
its threshold, and at least every ``interval`` seconds.

No poll per subject: it follows the event log (kinds and resource types only) and
evaluates the rules of the kinds an event may concern, a moment later (``settle``: a
burst of events costs one evaluation). A rule's evaluation says when it is due next
(a session down since T fires at T + threshold; a drift count falls back at a known
time), and the controller wakes then. Replicas are not in the event log: rules of
``replica_lost`` are evaluated every ``tick``.

Replicas on PostgreSQL: the rules are evaluated by one replica at a time, the one
``leads()`` (store/leader.py: an advisory lock); the others wait and take over when
it goes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from sdwan.alerting.background import LeaderLoop
from sdwan.alerting.evaluate import Evaluator, Outcome
from sdwan.domain.alerts import AlertKind
from sdwan.events.log import EventLog
from sdwan.store import alert_repo, repo
from sdwan.store.alert_repo import AlertRuleRecord
from sdwan.store.leader import Leader

log = logging.getLogger(__name__)
KEEP_RESOLVED = 10_000  # at most this many resolved alerts are kept...
KEEP_RESOLVED_AGE = timedelta(days=7)  # ...and none resolved longer ago than this
_PRUNE_EVERY = 60.0

_ALL = frozenset(AlertKind)
# which rules an event may concern, by its kind (resource changes: every kind)
_WATCHED: dict[str, frozenset[AlertKind]] = {
    "session.changed": frozenset({AlertKind.SESSION_DOWN}),
    "router.reachability": frozenset({AlertKind.ROUTER_UNREACHABLE, AlertKind.SESSION_DOWN}),
    "status.changed": frozenset({AlertKind.ROUTER_UNREACHABLE, AlertKind.SESSION_DOWN}),
    "intent.verdict": frozenset({AlertKind.INTENT_DEGRADED}),
    "uplink.quality": frozenset({AlertKind.UPLINK_SLA}),
    "drift.repaired": frozenset({AlertKind.DRIFT_REPAIRS}),
}


def concerned(kinds: Iterable[tuple[str, str]]) -> set[AlertKind]:
    """The kinds of rule that (event kind, resource type) pairs may concern."""
    found: set[AlertKind] = set()
    for kind, resource_type in kinds:
        if kind.startswith("alert."):
            continue  # our own
        if kind.startswith("resource."):
            found |= _ALL if resource_type != "webhook" else set()
            continue
        found |= _WATCHED.get(kind, frozenset())
    return found


class AlertController(LeaderLoop):
    thread_name = "alerts"
    job = "alert evaluation"

    def __init__(
        self,
        *,
        engine: Engine,
        events: EventLog,
        leader: Leader,
        lease: float,
        tick: float = 1.0,
        settle: float = 0.2,
        interval: float = 10.0,
        clock: Callable[[], datetime] = repo.now,
    ) -> None:
        super().__init__(events, leader)
        self._engine = engine
        self._evaluator = Evaluator(engine, events, lease=lease, clock=clock)
        self._clock = clock
        self._tick = tick
        self._settle = settle
        self._interval = interval
        self._due: dict[str, datetime] = {}  # rule id -> evaluate again by then
        self._dirty: set[AlertKind] = set()
        self._last_event = 0
        self._next_full = self._next_prune = 0.0
        self.evaluations = 0  # rule evaluations so far (benchmarks, tests)

    # --- the loop (alerting/background.py) -------------------------------------

    def took_lead(self) -> None:
        """Start from the present: every rule at once, then the events from now on."""
        self._last_event = self._events.last_id()
        self._next_full = 0.0

    async def round(self) -> float:
        now = time.monotonic()
        full = now >= self._next_full
        if full:
            self._next_full = now + self._interval
        self.step(full=full)
        if now >= self._next_prune:
            self._next_prune = now + _PRUNE_EVERY
            self.prune()
        return self._sleep()

    async def woken(self) -> None:
        await asyncio.sleep(self._settle)  # a burst of events: one evaluation

    def _sleep(self) -> float:
        until = [self._next_full - time.monotonic(), self._tick]
        if self._due:
            ahead = (min(self._due.values()) - self._clock()).total_seconds()
            until.append(ahead)
        return max(0.02, min(until))

    # --- one step --------------------------------------------------------------

    def step(self, *, full: bool = False) -> Outcome:
        """Evaluate what is due: every rule (``full``, or a rule changed: the alerts of
        rules deleted or disabled resolve), else the rules of the kinds recent events
        concern, those whose next moment came, and replica_lost's."""
        with self._engine.connect() as conn:
            found, self._last_event = alert_repo.event_kinds_since(
                conn, since=self._last_event, limit=5000
            )
            rules = alert_repo.enabled_rules(conn)
        self._dirty |= concerned(found)
        full = full or any(resource_type == "alert_rule" for _, resource_type in found)
        now = self._clock()
        if full:
            chosen = rules
        else:
            chosen = [
                r
                for r in rules
                if AlertKind(r.kind) in self._dirty
                or r.kind == AlertKind.REPLICA_LOST
                or (r.id in self._due and self._due[r.id] <= now)
            ]
        self._dirty.clear()
        if not chosen and not full:
            return Outcome()
        outcome = self._evaluator.run(chosen, sweep=full)
        self.evaluations += len(chosen)
        for rule in chosen:
            self._due.pop(rule.id, None)
        self._due.update(outcome.next_due)
        known = {r.id for r in rules}
        self._due = {k: v for k, v in self._due.items() if k in known}
        return outcome

    def evaluate(self, rules: list[AlertRuleRecord], *, sweep: bool = False) -> Outcome:
        return self._evaluator.run(rules, sweep=sweep)

    def prune(self) -> int:
        with self._engine.begin() as conn:
            return alert_repo.prune_resolved(
                conn, older_than=self._clock() - KEEP_RESOLVED_AGE, keep=KEEP_RESOLVED
            )
