"""The rollout's step machine: one step of one rollout, chosen by the state its row
holds: apply the next wave (the wave's change, its revision and the row's progress in
one transaction), gate the wave (its objects applied, then health judged against the
snapshot taken before the first wave), end an unconfirmed change, or roll back
(``rollback_step``). Nothing lives only in memory but a gate's settle clock."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from sdwan.errors import SdwanError
from sdwan.events.log import EventLog
from sdwan.fleet.service import FleetService
from sdwan.rollout.lookups import RolloutLookups
from sdwan.rollout.probe import Gate
from sdwan.rollout.record import Moved, RolloutWriter, now, principal_of
from sdwan.rollout.rollback_step import RollbackStep
from sdwan.rollout.service import open_document
from sdwan.secretbox import SecretBox
from sdwan.service import audit, revision_log
from sdwan.service.uow import reading, unit_of_work
from sdwan.store import rollout_repo
from sdwan.store.availability import is_unavailable
from sdwan.store.rollout_repo import (
    AWAITING_CONFIRM,
    DONE,
    GATING,
    ROLLING_BACK,
    RUNNING,
    RolloutRecord,
)

log = logging.getLogger(__name__)
WAVE_EVENT = "rollout.wave"  # a wave applied (the rollout then gates it)


def _gate_error(exc: Exception) -> dict[str, Any]:
    return {
        "router": None,
        "check": "gate",
        "detail": f"the gate could not judge: {type(exc).__name__}: {exc}"[:500],
    }


def wave_document(document: dict[str, Any], rollout: RolloutRecord, index: int) -> dict[str, Any]:
    """The fleet file restricted to wave ``index``'s routers; sites and SLA classes go
    with the last wave (their uplinks and intents name the routers' neighbors)."""
    names = set(rollout.waves[index])
    out: dict[str, Any] = {
        "version": document.get("version", 1),
        "routers": [r for r in document.get("routers") or [] if r.get("name") in names],
    }
    if index >= len(rollout.waves) - 1:
        for section in ("sla_classes", "sites"):
            if section in document:
                out[section] = document[section]
    return out


class RolloutSteps:
    def __init__(
        self,
        *,
        engine: Engine,
        events: EventLog,
        fleet: FleetService,
        gate: Gate,
        secrets: SecretBox,
        writer: RolloutWriter,
        lookups: RolloutLookups,
        rollback: RollbackStep,
        settle: float = 2.0,
    ) -> None:
        self._engine = engine
        self._events = events
        self._fleet = fleet
        self._gate = gate
        self._secrets = secrets  # the fleet file is kept sealed in the row
        self._writer = writer
        self._lookups = lookups
        self._rollback = rollback
        self._settle = settle  # seconds a wave must stay applied before it is judged
        self._clear_since: dict[tuple[int, int], float] = {}  # (rollout, wave) -> monotonic

    def step(self, rollout_id: int) -> None:
        with reading(self._engine) as conn:
            rollout = rollout_repo.get_rollout(conn, rollout_id=rollout_id)
        if rollout is None:
            return
        token = audit.current_actor.set(principal_of(rollout))
        message = revision_log.current_message.set(rollout.message)
        try:
            if rollout.state == RUNNING:
                self._apply_wave(rollout)
            elif rollout.state == GATING:
                self._gate_wave(rollout)
            elif rollout.state == ROLLING_BACK:
                self._rollback.roll_back(rollout)
            elif rollout.state == AWAITING_CONFIRM:
                self._await_confirm(rollout)
        finally:
            revision_log.current_message.reset(message)
            audit.current_actor.reset(token)

    def _apply_wave(self, rollout: RolloutRecord) -> None:
        index = rollout.wave
        baseline = rollout.baseline
        if baseline is None:  # before the first wave: what the gates compare with
            try:
                baseline = self._gate.capture(
                    router_ids=self._lookups.router_ids(rollout.routers),
                    site_ids=self._lookups.site_ids(rollout),
                    checks=rollout.checks,
                )
            except Exception as exc:
                if is_unavailable(exc):
                    raise
                log.exception("rollout %s: no snapshot before the first wave", rollout.id)
                self._writer.fail(rollout, [_gate_error(exc)], "no health snapshot before wave 1")
                return
        try:
            with unit_of_work(self._engine) as work:
                self._fleet.apply(
                    principal_of(rollout),
                    wave_document(open_document(self._secrets, rollout.document), rollout, index),
                    prune=rollout.prune,
                    dry_run=False,
                )
                draft = revision_log.draft_of(work)
                text = f"wave {index + 1}/{len(rollout.waves)} applied: " + (
                    ", ".join(rollout.waves[index]) or "sites only"
                )

                def progress() -> None:  # after the revision is written, in its transaction
                    self._writer.move(
                        work.conn,
                        rollout,
                        {
                            "state": GATING,
                            "baseline": baseline,
                            "wave_revisions": [*rollout.wave_revisions, draft.number],
                            "gate_deadline": now() + timedelta(seconds=rollout.gate_timeout),
                            "detail": text,
                        },
                        WAVE_EVENT,
                        text,
                        {"wave": index, "revision": draft.number},
                    )

                work.finishing.append(progress)
        except Moved:
            raise
        except SdwanError as exc:  # the change no longer applies: undo what did
            failure = {"router": None, "check": "apply", "detail": exc.message}
            self._writer.fail(rollout, [failure], f"wave {index + 1} could not be applied")
            return
        self._events.notify()

    def _gate_wave(self, rollout: RolloutRecord) -> None:
        key = (rollout.id, rollout.wave)
        wave_ids = self._lookups.router_ids(rollout.waves[rollout.wave])
        pending = self._lookups.pending(wave_ids)
        late = rollout.gate_deadline is not None and now() >= rollout.gate_deadline
        if pending:
            self._clear_since.pop(key, None)
            if late:
                failure = {
                    "router": None,
                    "check": "timeout",
                    "detail": f"not applied within {rollout.gate_timeout:g} s: "
                    + ", ".join(pending[:10]),
                    "observed": pending[:50],
                }
                self._writer.fail(rollout, [failure], f"wave {rollout.wave + 1}: gate timed out")
            return
        since = self._clear_since.setdefault(key, time.monotonic())
        if time.monotonic() - since < self._settle and not late:
            return
        self._clear_since.pop(key, None)
        try:
            after = self._gate.capture(
                router_ids=self._lookups.router_ids(rollout.routers),
                site_ids=self._lookups.site_ids(rollout),
                checks=rollout.checks,
            )
            failures = self._gate.judge(rollout.baseline or {}, after, rollout.checks)
        except Exception as exc:  # a gate that cannot judge does not pass, nor wait forever
            if is_unavailable(exc):
                raise
            log.exception("rollout %s: the gate could not judge wave %s", rollout.id, key[1])
            failures = [_gate_error(exc)]
        if failures:
            self._writer.fail(rollout, failures, f"wave {rollout.wave + 1}: gate failed")
            return
        last = rollout.wave >= len(rollout.waves) - 1
        passed = f"wave {rollout.wave + 1}/{len(rollout.waves)} passed its gate"
        values: dict[str, Any]
        if not last:
            values = {"state": RUNNING, "wave": rollout.wave + 1, "detail": passed}
        elif rollout.confirm_within is not None:
            by = now() + timedelta(seconds=rollout.confirm_within)
            values = {
                "state": AWAITING_CONFIRM,
                "confirm_by": by,
                "detail": f"{passed}; confirm by {by.isoformat(timespec='seconds')}",
            }
        else:
            values = {"state": DONE, "detail": f"{passed}; done"}
        self._writer.write(rollout, values, f"rollout {rollout.id}: {values['detail']}")

    def _await_confirm(self, rollout: RolloutRecord) -> None:
        if rollout.confirm_by is None or now() < rollout.confirm_by:
            return
        failure = {
            "router": None,
            "check": "confirm",
            "detail": f"not confirmed within {rollout.confirm_within or 0:g} s",
        }
        self._writer.fail(rollout, [failure], "not confirmed in time")
