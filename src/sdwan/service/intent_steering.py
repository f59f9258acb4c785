"""An intent's SLA steering as the compiler, the verification and the plan see it.

The quality controller (sdwan.quality) decides the moves and stores each intent's
steering state (``intent_steering``, with the id of the class it was decided for: a
state of another class, or of none, reads as nothing demoted, so clearing or changing
an intent's class resets its steering). Here the stored state becomes the tiers in
force (``Steered``: what ``intent_sync.site_view`` gives each IntentView, so the
compiled policy follows it), and for a plan, the decision that would apply now, from
the quality the agents last reported (``uplink_quality``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from sdwan.domain.intent_compile import IntentView, UplinkView, configured_tiers
from sdwan.domain.sla import Decision, SlaClass, Steered, Steering, UplinkQuality, steer
from sdwan.domain.uplink_report import parse_uplink
from sdwan.store import quality_repo, sla_repo
from sdwan.store.intent_repo import IntentRecord
from sdwan.store.quality_repo import SteeringRecord, UplinkQualityRecord
from sdwan.store.sla_repo import SlaClassRecord

__all__ = [
    "IntentSteering",
    "SteeringInputs",
    "sla_of",
    "steering_inputs",
    "steering_of",
    "stored_form",
    "stored_steering",
    "uplink_quality",
]

CLASS_KEY = "class_id"  # in the stored state: the class it was decided for


def sla_of(record: SlaClassRecord) -> SlaClass:
    return SlaClass(
        record.name,
        record.loss_pct,
        record.latency_ms,
        record.jitter_ms,
        hold_down=record.hold_down_s,
        min_interval=record.min_interval_s,
    )


def stored_steering(record: SteeringRecord | None, class_id: str | None) -> Steering:
    """The stored state, if it was decided for ``class_id``; else nothing demoted."""
    if record is None or class_id is None or record.state.get(CLASS_KEY) != class_id:
        return Steering()
    return Steering.from_json(record.state)


def stored_form(steering: Steering, class_id: str) -> dict[str, Any]:
    return {CLASS_KEY: class_id, **steering.to_json()}


def uplink_quality(record: UplinkQualityRecord) -> UplinkQuality:
    """A stored report as the steering reads it."""
    report = parse_uplink(
        record.uplink_id,
        {
            "state": record.state,
            "since": record.since.timestamp(),
            "long": record.long,
            "short": record.short,
            "classes": record.classes,
        },
    )
    return report.quality() if report is not None else UplinkQuality()


@dataclass(frozen=True)
class IntentSteering:
    """One intent's class, its stored steering and, for a plan, the decision now."""

    sla: SlaClass
    class_id: str
    tiers: list[list[str]]  # the intent's own
    stored: Steering
    quality: Mapping[str, UplinkQuality | None]  # uplink name -> report (plan only)
    decision: Decision | None = None  # plan only: what would apply now

    def moves_due(self) -> bool:
        """A plan's decision moves an uplink now."""
        return self.decision is not None and bool(self.decision.moves)

    def steered(self) -> Steered:
        """The tiers in force: the decision's for a plan, else the stored state's."""
        steering = self.decision.steering if self.decision is not None else self.stored
        return Steered.of(self.tiers, steering, self.sla.name)

    def public(self) -> dict[str, Any]:
        """For the plan's answer: each uplink's quality now against the class, which
        uplinks are demoted and which would move, the tiers the prediction uses."""
        decision = self.decision
        now = decision.steering if decision is not None else self.stored
        uplinks = []
        for name in [n for tier in self.tiers for n in tier]:
            seen = self.quality.get(name)
            verdict = seen.classes.get(self.sla.name) if seen is not None else None
            uplinks.append(
                {
                    "uplink": name,
                    "state": seen.state if seen is not None else "unmeasured",
                    "loss_pct": seen.loss_pct if seen is not None else None,
                    "latency_ms": seen.latency_ms if seen is not None else None,
                    "jitter_ms": seen.jitter_ms if seen is not None else None,
                    "class_state": str(verdict.state) if verdict is not None else "unmeasured",
                    "reason": verdict.reason if verdict is not None else "",
                    "demoted": name in self.stored.demoted,
                    "demoted_after": name in now.demoted,
                }
            )
        steered = self.steered()
        moves = decision.moves if decision is not None else []
        return {
            "class": self.sla.name,
            "limits": {
                "loss_pct": self.sla.loss_pct,
                "latency_ms": self.sla.latency_ms,
                "jitter_ms": self.sla.jitter_ms,
            },
            "uplinks": uplinks,
            "moves": [{"uplink": m.uplink, "kind": m.kind, "reason": m.reason} for m in moves],
            "tiers": steered.tiers,
            "note": steered.note,
        }


@dataclass(frozen=True)
class SteeringInputs:
    """What the steering of some intents reads from the store, read once for a page
    of sites: the classes, the stored steering and (a plan) the uplinks' reports."""

    classes: Mapping[str, SlaClassRecord]  # class id -> class
    stored: Mapping[str, SteeringRecord]  # intent id -> its stored steering
    reports: Mapping[str, UplinkQualityRecord]  # uplink id -> its latest report
    decide_at: float | None = None  # a plan: decide at this time


def steering_inputs(
    conn: Connection,
    intents: Sequence[IntentRecord],
    uplink_ids: Sequence[str],
    *,
    decide_at: float | None = None,
) -> SteeringInputs:
    """The reads ``steering_of`` needs for these intents (of any number of sites):
    nothing when none has an SLA class; the reports of ``uplink_ids`` only with
    ``decide_at`` (a plan)."""
    classed = [i for i in intents if i.sla_class_id is not None]
    if not classed:
        return SteeringInputs({}, {}, {}, decide_at)
    classes = sla_repo.classes_by_ids(conn, ids=sorted({str(i.sla_class_id) for i in classed}))
    stored = quality_repo.get_steering(conn, intent_ids=[i.id for i in classed])
    reports: dict[str, UplinkQualityRecord] = {}
    if decide_at is not None:
        reports = quality_repo.quality_of(conn, uplink_ids=sorted(uplink_ids))
    return SteeringInputs(classes, stored, reports, decide_at)


def steering_of(
    inputs: SteeringInputs,
    intents: Sequence[IntentRecord],
    views: Mapping[str, IntentView],
    uplinks: Sequence[UplinkView],
    uplink_ids: Mapping[str, str],
) -> dict[str, IntentSteering]:
    """Intent id -> its steering, for the intents of one site with an SLA class.
    ``views``: the intents' views by id (their own tiers); ``uplink_ids``: uplink name
    -> id in the site. With ``inputs.decide_at`` (a plan), the decision at that time
    from the stored quality; else the stored state alone."""
    classed = [i for i in intents if i.sla_class_id is not None]
    if not classed:
        return {}
    decide_at = inputs.decide_at
    quality: dict[str, UplinkQuality | None] = {}
    if decide_at is not None:
        found = inputs.reports
        quality = {
            name: uplink_quality(found[ident]) if ident in found else None
            for name, ident in uplink_ids.items()
        }
    out: dict[str, IntentSteering] = {}
    for intent in classed:
        record = inputs.classes.get(str(intent.sla_class_id))
        if record is None:
            continue
        sla = sla_of(record)
        tiers = configured_tiers(views[intent.id], tuple(uplinks))
        state = stored_steering(inputs.stored.get(intent.id), record.id)
        decision = None
        if decide_at is not None:
            measured = {n: q for n, q in quality.items() if q is not None}
            decision = steer(tiers, sla, measured, state, decide_at)
        out[intent.id] = IntentSteering(sla, record.id, tiers, state, quality, decision)
    return out
