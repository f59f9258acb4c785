"""The rollback step: every router (and site) of the rollout brought back to the
revision before it (one revision, recorded in the row in its transaction), then the
wait until the routers have applied it: rolled back, or failed when the rollback is
refused or not applied in time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from sdwan.errors import SdwanError
from sdwan.events.log import EventLog
from sdwan.fleet.restore import RestoreService
from sdwan.rollout.lookups import RolloutLookups
from sdwan.rollout.record import Moved, RolloutWriter, now, principal_of
from sdwan.service import revision_log
from sdwan.service.uow import unit_of_work
from sdwan.store.rollout_repo import FAILED, ROLLED_BACK, RolloutRecord

ROLLBACK_EVENT = "rollout.rollback"  # the rollback made (the rollout then waits for it)
ROLLBACK_WAIT = 120.0  # seconds a rollback may take to be applied before it is called failed


class RollbackStep:
    def __init__(
        self,
        *,
        engine: Engine,
        events: EventLog,
        restore: RestoreService,
        writer: RolloutWriter,
        lookups: RolloutLookups,
    ) -> None:
        self._engine = engine
        self._events = events
        self._restore = restore
        self._writer = writer
        self._lookups = lookups

    def roll_back(self, rollout: RolloutRecord) -> None:
        if rollout.rollback_revision is None:
            self._restore_base(rollout)
            return
        pending = self._lookups.pending(self._lookups.router_ids(rollout.routers))
        if not pending:
            self._writer.write(
                rollout,
                {
                    "state": ROLLED_BACK,
                    "detail": f"rolled back to revision {rollout.base_revision}",
                },
                f"rollout {rollout.id}: every router back on revision {rollout.base_revision}",
            )
        elif rollout.gate_deadline is not None and now() >= rollout.gate_deadline:
            detail = "rollback not applied in time: " + ", ".join(pending[:10])
            self._writer.write(
                rollout, {"state": FAILED, "detail": detail}, f"rollout {rollout.id}: {detail}"
            )

    def _restore_base(self, rollout: RolloutRecord) -> None:
        """The rollback itself: a new revision, recorded in the row in its transaction
        (0: nothing was left to undo)."""
        routers, sites = rollout.routers, rollout.sites
        try:
            with unit_of_work(self._engine) as work:
                if routers or sites:
                    self._restore.rollback(
                        principal_of(rollout),
                        rollout.base_revision,
                        routers=routers,
                        sites=sites or None,
                        dry_run=False,
                    )
                draft = revision_log.draft_of(work)

                def progress() -> None:
                    self._writer.move(
                        work.conn,
                        rollout,
                        {
                            "rollback_revision": draft.number or 0,
                            "gate_deadline": now()
                            + timedelta(seconds=max(rollout.gate_timeout, ROLLBACK_WAIT)),
                            "detail": f"rolling back to revision {rollout.base_revision}",
                        },
                        ROLLBACK_EVENT,
                        f"rollout {rollout.id}: rollback to revision {rollout.base_revision} "
                        f"made as revision {draft.number}",
                        {"rollback_revision": draft.number},
                    )

                work.finishing.append(progress)
        except Moved:
            raise
        except SdwanError as exc:
            detail = f"rollback to revision {rollout.base_revision} refused: {exc.message}"
            self._writer.write(
                rollout, {"state": FAILED, "detail": detail}, f"rollout {rollout.id}: {detail}"
            )
            return
        self._events.notify()
