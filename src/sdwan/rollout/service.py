"""Rollouts as the API sees them: start a staged (or confirmed) fleet apply, make a
single write confirmable, list, show and confirm. The controller (controller.py) does
the work; this only writes the row it starts from and reads rows back."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.errors import Conflict, InvalidInput, NotFound
from sdwan.events.log import EventLog
from sdwan.events.model import Event
from sdwan.fleet.service import FleetService
from sdwan.rollout.gate_model import CUSTOM_KINDS, canonical_prefix
from sdwan.rollout.waves import parse_stages, split
from sdwan.secretbox import SecretBox
from sdwan.service.audit import current_actor
from sdwan.service.uow import after_commit, reading, unit_of_work
from sdwan.store import repo, revision_repo, rollout_repo
from sdwan.store.rollout_repo import ACTIVE, AWAITING_CONFIRM, DONE, RUNNING, STATES, RolloutRecord

GATE_TIMEOUT = 60.0  # seconds a wave's gate waits for its objects to be applied
MAX_GATE_TIMEOUT = 3600.0
MAX_CONFIRM = 86_400.0  # a day
CHECK_KINDS = CUSTOM_KINDS
MAX_CHECKS = 100
_ROUTER_KINDS = {"router", "neighbor", "defined_set", "policy", "attachment", "announcement"}


def check_confirm_within(value: float | None, *, field: str = "confirm_within") -> float | None:
    if value is not None and not 1 <= value <= MAX_CONFIRM:
        raise InvalidInput(
            f"{field}: seconds between 1 and {MAX_CONFIRM:g}, got {value:g}", field=field
        )
    return value


def _check_gate_timeout(value: float) -> float:
    if not 1 <= value <= MAX_GATE_TIMEOUT:
        raise InvalidInput(
            f"gate_timeout: seconds between 1 and {MAX_GATE_TIMEOUT:g}, got {value:g}",
            field="gate_timeout",
        )
    return value


def _check_checks(checks: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    if len(checks) > MAX_CHECKS:
        raise InvalidInput(f"checks: at most {MAX_CHECKS}", field="checks")
    out = []
    for index, check in enumerate(checks):
        kind = check.get("kind")
        if kind not in CHECK_KINDS or set(check) != {"kind", "router", "prefix"}:
            raise InvalidInput(
                f"checks[{index}]: {{kind: {' | '.join(CHECK_KINDS)}, router, prefix}}",
                field=f"checks[{index}]",
            )
        try:
            prefix = canonical_prefix(str(check["prefix"]))
        except ValueError as exc:
            raise InvalidInput(
                f"checks[{index}].prefix: {exc}", field=f"checks[{index}].prefix"
            ) from None
        out.append({"kind": str(kind), "router": str(check["router"]), "prefix": prefix})
    return out


class RolloutService:
    def __init__(
        self,
        *,
        engine: Engine,
        events: EventLog,
        fleet: FleetService,
        secrets: SecretBox,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._secrets = secrets
        self._events = events
        self._fleet = fleet
        self.wake = wake  # the controller, when it runs in this process

    def start_fleet(
        self,
        principal: Principal,
        document: Any,
        *,
        prune: bool,
        stages: Sequence[str] | None,
        gate_timeout: float = GATE_TIMEOUT,
        confirm_within: float | None = None,
        checks: Sequence[Mapping[str, Any]] = (),
        message: str = "",
    ) -> dict[str, Any]:
        """The fleet file's plan and the rollout that will apply it (``rollout``: its
        id; None when there is nothing to change). Refused (409) while another rollout
        still running changes one of the same routers."""
        principal.require_write()
        stage_list = parse_stages(stages if stages is not None else ["100%"])
        _check_gate_timeout(gate_timeout)
        check_confirm_within(confirm_within)
        custom = _check_checks(checks)
        planned = self._fleet.apply(principal, document, prune=prune, dry_run=True)
        changes = planned["changes"]
        if not changes:
            return {**planned, "rollout": None}
        touched = {c["router"] for c in changes if c["kind"] in _ROUTER_KINDS}
        order = [str(r.get("name")) for r in document.get("routers") or []]
        routers = [name for name in order if name in touched]
        sites = sorted({c["key"] for c in changes if c["kind"] == "site"})
        waves = split(routers, stage_list) or [[]]
        with unit_of_work(self._engine) as work:
            _check_free(work.conn, routers)
            stamp = repo.now()
            values = {
                **_author(principal, stamp, message),
                "source": "fleet",
                "state": RUNNING,
                "stages": stage_list,
                "waves": waves,
                "sites": sites,
                "wave": 0,
                "base_revision": revision_repo.latest_number(work.conn),
                "wave_revisions": [],
                "document": seal_document(self._secrets, document),
                "prune": prune,
                "gate_timeout": gate_timeout,
                "confirm_within": confirm_within,
                "checks": custom,
                "detail": f"{len(waves)} wave(s) of {len(routers)} router(s) planned",
            }
            rollout_id = rollout_repo.insert_rollout(work.conn, values=values)
            self._created(work.conn, rollout_id, principal, values)
        return {**planned, "rollout": rollout_id}

    def confirm_write(
        self, conn: Connection, number: int, rows: Sequence[Mapping[str, Any]], seconds: float
    ) -> int:
        """A write's revision ``number`` (its change ``rows``) kept only if confirmed
        within ``seconds``: a one-wave rollout awaiting confirmation, in the write's
        own transaction; its id."""
        routers = sorted({str(r["router_id"]) for r in rows if r.get("router_id")})
        sites = sorted({str(r["site_id"]) for r in rows if r.get("site_id")})
        projects = {r.get("project_id") for r in rows}
        stamp = repo.now()
        actor = current_actor.get()
        values = {
            "project_id": projects.pop() if len(projects) == 1 else None,
            "author": actor.name[:63] if actor is not None else "system",
            "author_role": str(actor.role) if actor is not None else "admin",
            "message": f"confirm revision {number}",
            "created_at": stamp,
            "updated_at": stamp,
            "version": 1,
            "failures": [],
            "baseline": None,
            "source": "api",
            "state": AWAITING_CONFIRM,
            "stages": ["100%"],
            "waves": [routers],
            "sites": sites,
            "wave": 0,
            "base_revision": number - 1,
            "wave_revisions": [number],
            "document": None,
            "prune": False,
            "gate_timeout": GATE_TIMEOUT,
            "confirm_within": seconds,
            "confirm_by": stamp + timedelta(seconds=seconds),
            "checks": [],
            "detail": f"revision {number} applied; confirm within {seconds:g} s",
        }
        rollout_id = rollout_repo.insert_rollout(conn, values=values)
        self._created(conn, rollout_id, actor, values)
        return rollout_id

    def _created(
        self,
        conn: Connection,
        rollout_id: int,
        principal: Principal | None,
        values: Mapping[str, Any],
    ) -> None:
        state = str(values["state"])
        text = f"rollout {rollout_id} by {values['author']}: {values['detail']}"
        event = Event(
            f"rollout.{state}",
            "rollout",
            str(rollout_id),
            "",
            text[:2000],
            {"state": state, "wave": 0, "waves": len(values["waves"])},
            values["project_id"],
        )
        self._events.record(conn, [event])
        after_commit(self._events.notify)
        after_commit(self.wake)

    def list(
        self, principal: Principal, *, state: str | None, limit: int, offset: int
    ) -> tuple[list[RolloutRecord], int]:
        if state is not None and state not in STATES:
            raise InvalidInput(f"state: one of {', '.join(STATES)}", field="state")
        with reading(self._engine) as conn:
            return rollout_repo.list_rollouts(
                conn,
                project_id=principal.project_id,
                states=None if state is None else [state],
                limit=limit,
                offset=offset,
            )

    def get(self, principal: Principal, rollout_id: int) -> RolloutRecord:
        with reading(self._engine) as conn:
            found = rollout_repo.get_rollout(conn, rollout_id=rollout_id)
        if found is None or (
            principal.project_id is not None and found.project_id != principal.project_id
        ):
            raise NotFound(f"rollout {rollout_id} not found")
        return found

    def confirm(self, principal: Principal, rollout_id: int) -> RolloutRecord:
        """Keep the change: awaiting_confirm -> done (409 in any other state)."""
        principal.require_write()
        with unit_of_work(self._engine) as work:
            found = self.get(principal, rollout_id)
            if found.state != AWAITING_CONFIRM:
                raise Conflict(f"rollout {rollout_id} is {found.state}, not awaiting confirmation")
            text = f"rollout {rollout_id} confirmed by {principal.name}"
            moved = rollout_repo.advance(
                work.conn,
                rollout_id=rollout_id,
                version=found.version,
                values={"state": DONE, "detail": text},
                at=repo.now(),
            )
            if not moved:
                raise Conflict(f"rollout {rollout_id} changed while being confirmed; retry")
            event = Event(
                "rollout.done",
                "rollout",
                str(rollout_id),
                "",
                text,
                {"state": DONE, "wave": found.wave, "confirmed_by": principal.name},
                found.project_id,
            )
            self._events.record(work.conn, [event])
            after_commit(self._events.notify)
        return self.get(principal, rollout_id)


def seal_document(secrets: SecretBox, document: Any) -> dict[str, str]:
    """The fleet file as the row keeps it: sealed whole, since it may hold neighbors'
    passwords (never stored in the clear, never answered)."""
    return {"sealed": secrets.seal(json.dumps(document)).decode("ascii")}


def open_document(secrets: SecretBox, stored: dict[str, Any] | None) -> dict[str, Any]:
    if not stored:
        return {}
    found: dict[str, Any] = json.loads(secrets.open(str(stored["sealed"]).encode("ascii")))
    return found


def _author(principal: Principal, stamp: Any, message: str) -> dict[str, Any]:
    return {
        "project_id": principal.project_id,
        "author": principal.name[:63],
        "author_role": str(principal.role),
        "message": message,
        "created_at": stamp,
        "updated_at": stamp,
        "version": 1,
        "failures": [],
        "baseline": None,
    }


def _check_free(conn: Connection, routers: Sequence[str]) -> None:
    """One rollout at a time per router: two would undo each other's waves."""
    wanted = set(routers)
    for rollout_id in rollout_repo.active_ids(conn):
        other = rollout_repo.get_rollout(conn, rollout_id=rollout_id)
        if other is None or other.state not in ACTIVE:
            continue
        names = repo.router_names(conn, router_ids=other.routers)  # an API write's: ids
        shared = wanted & {names.get(r, r) for r in other.routers}
        if shared:
            raise Conflict(
                f"rollout {rollout_id} ({other.state}) is still changing "
                f"{', '.join(sorted(shared))}: wait for it or confirm it"
            )
