"""The rollout controller: one thread, in the replica that leads the job (one process
on SQLite; on PostgreSQL the holder of an advisory lock), that moves every unfinished
rollout on by one step per round (``steps``), reading where it stands from its row
each time, and ends a rollout whose steps keep failing.

Since nothing lives only in memory but a gate's settle clock, a replica that takes
over (or an orchestrator restarted after a crash) picks every rollout up where its row
says it is: a wave applied is gated again, a rollback under way is finished, never
left half-done."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from sdwan.events.log import EventLog
from sdwan.fleet.restore import RestoreService
from sdwan.fleet.service import FleetService
from sdwan.rollout.lookups import RolloutLookups
from sdwan.rollout.probe import Gate
from sdwan.rollout.record import Moved, RolloutWriter
from sdwan.rollout.rollback_step import RollbackStep
from sdwan.rollout.steps import RolloutSteps
from sdwan.secretbox import SecretBox
from sdwan.service.uow import reading
from sdwan.store import rollout_repo
from sdwan.store.availability import describe, is_unavailable
from sdwan.store.leader import Leader
from sdwan.store.rollout_repo import FAILED, ROLLING_BACK

log = logging.getLogger(__name__)
MAX_ERRORS = 5  # steps of one rollout failing in a row before it is ended


class RolloutController:
    def __init__(
        self,
        *,
        engine: Engine,
        events: EventLog,
        leader: Leader,
        fleet: FleetService,
        restore: RestoreService,
        gate: Gate,
        secrets: SecretBox,
        settle: float = 2.0,
        poll: float = 0.25,
    ) -> None:
        self._engine = engine
        self._leader = leader
        self._writer = RolloutWriter(engine=engine, events=events)
        lookups = RolloutLookups(engine=engine, gate=gate)
        rollback = RollbackStep(
            engine=engine, events=events, restore=restore, writer=self._writer, lookups=lookups
        )
        self._steps = RolloutSteps(
            engine=engine,
            events=events,
            fleet=fleet,
            gate=gate,
            secrets=secrets,
            writer=self._writer,
            lookups=lookups,
            rollback=rollback,
            settle=settle,
        )
        self._poll = poll
        self._errors: dict[int, int] = {}  # rollout -> steps failed in a row
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rollouts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._leader.release()

    def wake(self) -> None:
        """A rollout was created or confirmed here: look now."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if self._leader.leads():
                    self.round()
            except Exception as exc:  # the thread outlives a database outage
                if not is_unavailable(exc):
                    log.exception("rollout round failed")
                else:
                    log.warning("rollouts wait for the database: %s", describe(exc))
            self._wake.wait(self._poll)
            self._wake.clear()

    def round(self) -> None:
        """One step of every unfinished rollout, oldest first."""
        with reading(self._engine) as conn:
            ids = rollout_repo.active_ids(conn)
        for rollout_id in ids:
            if self._stopping.is_set():
                return
            try:
                self.step(rollout_id)
                self._errors.pop(rollout_id, None)
            except Moved:
                continue
            except Exception as exc:
                if is_unavailable(exc):
                    raise
                log.exception("rollout %s: step failed", rollout_id)
                self._count_error(rollout_id, exc)

    def step(self, rollout_id: int) -> None:
        """One step of one rollout (``steps.RolloutSteps``)."""
        self._steps.step(rollout_id)

    def _count_error(self, rollout_id: int, exc: Exception) -> None:
        """A step that keeps failing (not the database: a fault of its own) ends the
        rollout instead of holding it where it is: rolled back, or failed when the
        rollback itself is what fails."""
        self._errors[rollout_id] = count = self._errors.get(rollout_id, 0) + 1
        if count < MAX_ERRORS:
            return
        self._errors.pop(rollout_id, None)
        with reading(self._engine) as conn:
            rollout = rollout_repo.get_rollout(conn, rollout_id=rollout_id)
        if rollout is None or rollout.state not in rollout_repo.ACTIVE:
            return
        what = f"{count} steps in a row failed: {type(exc).__name__}: {exc}"[:500]
        if rollout.state == ROLLING_BACK:
            self._writer.write(
                rollout, {"state": FAILED, "detail": what}, f"rollout {rollout_id}: {what}"
            )
        else:
            failure = {"router": None, "check": "error", "detail": what}
            self._writer.fail(rollout, [failure], f"wave {rollout.wave + 1}: {what}")
