"""How the rollout steps write a rollout's row: every change of state moves the row
from the version the step read (``Moved`` when it changed under the step: a
confirmation came in) and records its event in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal, Role
from sdwan.events.log import EventLog
from sdwan.events.model import Event
from sdwan.service.uow import unit_of_work
from sdwan.store import repo, rollout_repo
from sdwan.store.rollout_repo import ROLLING_BACK, RolloutRecord

log = logging.getLogger(__name__)
ROLLOUT_EVENT = "rollout.{state}"


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


class RolloutWriter:
    def __init__(self, *, engine: Engine, events: EventLog) -> None:
        self._engine = engine
        self._events = events

    def fail(self, rollout: RolloutRecord, failures: list[dict[str, Any]], why: str) -> None:
        where = "; ".join(
            f"{f.get('router') or '-'}: {f.get('check')}: {f.get('detail')}" for f in failures[:5]
        )
        self.write(
            rollout,
            {"state": ROLLING_BACK, "failures": failures, "detail": f"{why}: {where}"[:2000]},
            f"rollout {rollout.id}: {why}, rolling back: {where}"[:2000],
        )

    def write(self, rollout: RolloutRecord, values: Mapping[str, Any], text: str) -> None:
        with unit_of_work(self._engine) as work:
            self.move(work.conn, rollout, values, None, text, {})
        self._events.notify()
        log.info(text)

    def move(
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
