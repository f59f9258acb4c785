"""The rollout controller: one thread, in the replica that leads the job (one process
on SQLite; on PostgreSQL the holder of an advisory lock), that moves every unfinished
rollout on by one step per round, reading where it stands from its row each time.

A step is one of: apply the next wave (the wave's change, its revision and the row's
progress in one transaction), gate the wave (its objects applied, then health judged
against the snapshot taken before the first wave), roll back (every router of the
rollout to the revision before it, then wait until that is applied), or end an
unconfirmed change. Since nothing lives only in memory but a gate's settle clock, a
replica that takes over (or an orchestrator restarted after a crash) picks every
rollout up where its row says it is: a wave applied is gated again, a rollback under
way is finished, never left half-done."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal, Role
from sdwan.errors import SdwanError
from sdwan.events.log import EventLog
from sdwan.events.model import Event
from sdwan.fleet.restore import RestoreService
from sdwan.fleet.service import FleetService
from sdwan.rollout.probe import Gate
from sdwan.rollout.service import open_document
from sdwan.secretbox import SecretBox
from sdwan.service import audit, revision_log
from sdwan.service.uow import reading, unit_of_work
from sdwan.store import intent_repo, repo, rollout_repo
from sdwan.store.availability import describe, is_unavailable
from sdwan.store.leader import Leader
from sdwan.store.rollout_repo import (
    AWAITING_CONFIRM,
    DONE,
    FAILED,
    GATING,
    ROLLED_BACK,
    ROLLING_BACK,
    RUNNING,
    RolloutRecord,
)

log = logging.getLogger(__name__)
ROLLOUT_EVENT = "rollout.{state}"
WAVE_EVENT = "rollout.wave"  # a wave applied (the rollout then gates it)
ROLLBACK_EVENT = "rollout.rollback"  # the rollback made (the rollout then waits for it)
MAX_ERRORS = 5  # steps of one rollout failing in a row before it is ended
ROLLBACK_WAIT = 120.0  # seconds a rollback may take to be applied before it is called failed


def _gate_error(exc: Exception) -> dict[str, Any]:
    return {
        "router": None,
        "check": "gate",
        "detail": f"the gate could not judge: {type(exc).__name__}: {exc}"[:500],
    }


class Moved(Exception):
    """The row changed under this step (a confirmation came in): read it again."""


def now() -> datetime:
    return datetime.now(UTC)


def principal_of(rollout: RolloutRecord) -> Principal:
    """Who the rollout acts as: its author, with the role and project it had."""
    try:
        role = Role(rollout.author_role)
    except ValueError:
        role = Role.READER
    return Principal(name=rollout.author, role=role, project_id=rollout.project_id)


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
        self._events = events
        self._leader = leader
        self._fleet = fleet
        self._restore = restore
        self._gate = gate
        self._secrets = secrets  # the fleet file is kept sealed in the row
        self._settle = settle  # seconds a wave must stay applied before it is judged
        self._poll = poll
        self._clear_since: dict[tuple[int, int], float] = {}  # (rollout, wave) -> monotonic
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
            self._write(rollout, {"state": FAILED, "detail": what}, f"rollout {rollout_id}: {what}")
        else:
            failure = {"router": None, "check": "error", "detail": what}
            self._fail(rollout, [failure], f"wave {rollout.wave + 1}: {what}")

    # --- one step ----------------------------------------------------------------

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
                self._roll_back(rollout)
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
                    router_ids=self._router_ids(rollout.routers),
                    site_ids=self._site_ids(rollout),
                    checks=rollout.checks,
                )
            except Exception as exc:
                if is_unavailable(exc):
                    raise
                log.exception("rollout %s: no snapshot before the first wave", rollout.id)
                self._fail(rollout, [_gate_error(exc)], "no health snapshot before wave 1")
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
                    self._move(
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
            self._fail(rollout, [failure], f"wave {index + 1} could not be applied")
            return
        self._events.notify()

    def _gate_wave(self, rollout: RolloutRecord) -> None:
        key = (rollout.id, rollout.wave)
        wave_ids = self._router_ids(rollout.waves[rollout.wave])
        pending = self._pending(wave_ids)
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
                self._fail(rollout, [failure], f"wave {rollout.wave + 1}: gate timed out")
            return
        since = self._clear_since.setdefault(key, time.monotonic())
        if time.monotonic() - since < self._settle and not late:
            return
        self._clear_since.pop(key, None)
        try:
            after = self._gate.capture(
                router_ids=self._router_ids(rollout.routers),
                site_ids=self._site_ids(rollout),
                checks=rollout.checks,
            )
            failures = self._gate.judge(rollout.baseline or {}, after, rollout.checks)
        except Exception as exc:  # a gate that cannot judge does not pass, nor wait forever
            if is_unavailable(exc):
                raise
            log.exception("rollout %s: the gate could not judge wave %s", rollout.id, key[1])
            failures = [_gate_error(exc)]
        if failures:
            self._fail(rollout, failures, f"wave {rollout.wave + 1}: gate failed")
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
        self._write(rollout, values, f"rollout {rollout.id}: {values['detail']}")

    def _await_confirm(self, rollout: RolloutRecord) -> None:
        if rollout.confirm_by is None or now() < rollout.confirm_by:
            return
        failure = {
            "router": None,
            "check": "confirm",
            "detail": f"not confirmed within {rollout.confirm_within or 0:g} s",
        }
        self._fail(rollout, [failure], "not confirmed in time")

    def _roll_back(self, rollout: RolloutRecord) -> None:
        if rollout.rollback_revision is None:
            self._restore_base(rollout)
            return
        pending = self._pending(self._router_ids(rollout.routers))
        if not pending:
            self._write(
                rollout,
                {
                    "state": ROLLED_BACK,
                    "detail": f"rolled back to revision {rollout.base_revision}",
                },
                f"rollout {rollout.id}: every router back on revision {rollout.base_revision}",
            )
        elif rollout.gate_deadline is not None and now() >= rollout.gate_deadline:
            detail = "rollback not applied in time: " + ", ".join(pending[:10])
            self._write(
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
                    self._move(
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
            self._write(
                rollout, {"state": FAILED, "detail": detail}, f"rollout {rollout.id}: {detail}"
            )
            return
        self._events.notify()

    # --- writing -----------------------------------------------------------------

    def _fail(self, rollout: RolloutRecord, failures: list[dict[str, Any]], why: str) -> None:
        where = "; ".join(
            f"{f.get('router') or '-'}: {f.get('check')}: {f.get('detail')}" for f in failures[:5]
        )
        self._write(
            rollout,
            {"state": ROLLING_BACK, "failures": failures, "detail": f"{why}: {where}"[:2000]},
            f"rollout {rollout.id}: {why}, rolling back: {where}"[:2000],
        )

    def _write(self, rollout: RolloutRecord, values: Mapping[str, Any], text: str) -> None:
        with unit_of_work(self._engine) as work:
            self._move(work.conn, rollout, values, None, text, {})
        self._events.notify()
        log.info(text)

    def _move(
        self,
        conn: Connection,
        rollout: RolloutRecord,
        values: Mapping[str, Any],
        kind: str | None,
        text: str,
        data: Mapping[str, Any],
    ) -> None:
        if not rollout_repo.advance(
            conn, rollout_id=rollout.id, version=rollout.version, values=values, at=repo.now()
        ):
            raise Moved(rollout.id)
        state = str(values.get("state", rollout.state))
        event = Event(
            kind or ROLLOUT_EVENT.format(state=state),
            "rollout",
            str(rollout.id),
            "",
            text[:2000],
            {"state": state, "wave": values.get("wave", rollout.wave), **data},
            rollout.project_id,
        )
        self._events.record(conn, [event])

    def _pending(self, router_ids: list[str]) -> list[str]:
        """What the gate says is not applied yet; a gate that cannot tell counts as not
        applied (the deadline then ends the wait)."""
        try:
            return self._gate.pending(router_ids=router_ids)
        except Exception as exc:
            if is_unavailable(exc):
                raise
            log.exception("rollouts: the gate could not read what is applied")
            return [f"(unknown: {type(exc).__name__}: {exc})"[:300]]

    def _site_ids(self, rollout: RolloutRecord) -> list[str]:
        with reading(self._engine) as conn:
            found = [intent_repo.get_site(conn, key=key) for key in rollout.sites]
        return sorted({site.id for site in found if site is not None})

    def _router_ids(self, keys: list[str]) -> list[str]:
        """Router ids of names or ids (a router the rollout has not created yet has none)."""
        if not keys:
            return []
        with reading(self._engine) as conn:
            found = repo.get_routers_by_keys(conn, keys=keys)
        return sorted({found[k].id for k in keys if k in found})
