"""Steering intents on their uplinks' quality: each intent with an SLA class keeps its
steering state in memory (loaded from ``intent_steering``), ``decide`` runs the rules
(domain/sla.py) on the latest reports, and ``persist`` writes a new state; a move also
recompiles the site's generated policy and records an ``intent.steering`` event, in
ONE unit of work, after which the reconciler applies the policy (soft resets)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from sdwan.domain.sla import Decision, Steering, UplinkQuality, steer
from sdwan.events.log import EventLog
from sdwan.events.model import Event
from sdwan.metrics import Metrics
from sdwan.quality.inputs import SteeredIntent, UplinkInfo
from sdwan.service import intent_sync
from sdwan.service.common import ChangeNotifier
from sdwan.service.intent_steering import stored_form
from sdwan.service.uow import unit_of_work
from sdwan.store import quality_repo

__all__ = ["INTENT_STEERING", "Outcome", "Steerer", "steering_message"]

log = logging.getLogger(__name__)
INTENT_STEERING = "intent.steering"  # the event kind of a move


@dataclass(frozen=True)
class Outcome:
    """A new steering state of one intent (with moves, or only the clocks' memory)."""

    intent: SteeredIntent
    decision: Decision
    at: float  # epoch seconds


def steering_message(intent: SteeredIntent, decision: Decision) -> str:
    """``intent tokyo/to-osaka: mpls demoted: loss 6.1 % > 2 %; traffic on inet``."""
    parts = [
        f"{m.uplink} {'demoted' if m.kind == 'demote' else 'returned'}: {m.reason}"
        for m in decision.moves
    ]
    first = decision.tiers[0] if decision.tiers else []
    text = f"intent {intent.label}: " + "; ".join(parts)
    text += f"; traffic on {', '.join(first)}" if first else ""
    return text + (f" ({decision.note})" if decision.note else "")


class Steerer:
    def __init__(
        self, *, engine: Engine, notifier: ChangeNotifier, events: EventLog, metrics: Metrics
    ) -> None:
        self._engine = engine
        self._notifier = notifier
        self._events = events
        self._metrics = metrics
        self._intents: list[SteeredIntent] = []
        self._uplinks: dict[str, UplinkInfo] = {}
        self._state: dict[str, tuple[str, Steering]] = {}  # intent -> (class id, state)

    def reset(
        self,
        intents: Iterable[SteeredIntent],
        stored: Mapping[str, Steering],
        uplinks: Mapping[str, UplinkInfo],
    ) -> None:
        """The intents to steer now (this replica's), with their stored state for the
        ones new here or whose class changed (a new class starts from nothing)."""
        self._intents = list(intents)
        self._uplinks = dict(uplinks)
        kept: dict[str, tuple[str, Steering]] = {}
        for intent in self._intents:
            known = self._state.get(intent.id)
            if known is not None and known[0] == intent.class_id:
                kept[intent.id] = known
            else:
                kept[intent.id] = (intent.class_id, stored.get(intent.id, Steering()))
        self._state = kept

    def intents(self) -> list[SteeredIntent]:
        return list(self._intents)

    def state(self, intent_id: str) -> Steering | None:
        found = self._state.get(intent_id)
        return found[1] if found is not None else None

    def forget(self, intent_id: str) -> None:
        """Its state is read from the store again at the next ``reset``."""
        self._state.pop(intent_id, None)

    def decide(
        self,
        quality: Callable[[str], UplinkQuality | None],
        now: float,
        uplinks: set[str] | None = None,
    ) -> list[Outcome]:
        """The intents whose state changes now (of those using ``uplinks``, or all):
        their new state is taken at once, so the next decision builds on it."""
        out = []
        for intent in self._intents:
            if uplinks is not None and not uplinks.intersection(intent.uplinks.values()):
                continue
            known = self._state.get(intent.id)
            if known is None:
                continue  # forgotten after a failed write: until the reload
            class_id, state = known
            measured = {}
            for name, uplink_id in intent.uplinks.items():
                seen = quality(uplink_id)
                if seen is not None:
                    measured[name] = seen
            decision = steer(intent.tiers, intent.sla, measured, state, now)
            if decision.steering != state:
                self._state[intent.id] = (class_id, decision.steering)
                out.append(Outcome(intent, decision, now))
        return out

    def persist(self, outcome: Outcome) -> None:
        """Write the outcome (blocking: the controller runs it off its loop, one at a
        time); a move recompiles the site and records its event in the same unit of
        work. On a failure the caller ``forget``s the intent and reloads."""
        intent, decision = outcome.intent, outcome.decision
        events = []
        if decision.moves:
            events.append(
                Event(
                    INTENT_STEERING,
                    "intent",
                    intent.id,
                    intent.site,
                    steering_message(intent, decision)[:2000],
                    {
                        "site": intent.site_id,
                        "class": intent.sla.name,
                        "moves": [
                            {"uplink": m.uplink, "kind": m.kind, "reason": m.reason}
                            for m in decision.moves
                        ],
                        "tiers": decision.tiers,
                        "decided_at": outcome.at,
                    },
                    intent.project_id,
                )
            )
        with unit_of_work(self._engine) as work:
            written = quality_repo.put_steering(
                work.conn,
                intent_id=intent.id,
                state=stored_form(decision.steering, intent.class_id),
                updated_at=datetime.fromtimestamp(outcome.at, UTC),
            )
            if written and decision.moves:
                intent_sync.sync(work.conn, self._notifier, site_ids=[intent.site_id])
                self._events.record(work.conn, events)
        if not written or not events:
            return
        self._events.notify()
        for move in decision.moves:
            info = self._uplinks.get(intent.uplinks.get(move.uplink, ""))
            self._metrics.inc(
                "sdwan_sla_moves_total",
                router=info.router_name if info else "",
                site=intent.site,
                uplink=move.uplink,
                kind=move.kind,
            )
        log.info(events[0].message)
