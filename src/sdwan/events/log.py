"""The event log: rows in the ``events`` table (the history, bounded) and a wake-up
for live readers. Writers insert events in their own transaction (``record``) and
call ``notify()`` after the commit; readers (SSE streams) wait for a wake-up and then
read the rows after the last id they sent, so the table is the one source of truth
and a slow reader never loses an event that is still within the retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from sdwan.events.model import Event
from sdwan.events.ordered import OrderedEvents
from sdwan.store import live_repo

log = logging.getLogger(__name__)
KEEP_EVENTS = 10000  # at most this many newest events are kept...
KEEP_AGE = timedelta(days=7)  # ...and none older than this


class Subscription:
    """A live reader on an asyncio loop; woken from any thread."""

    def __init__(self, log: EventLog, loop: asyncio.AbstractEventLoop) -> None:
        self._log = log
        self._loop = loop
        self._event = asyncio.Event()

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: the reader is gone
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """True when woken, False on timeout (time for a keep-alive)."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def close(self) -> None:
        self._log._unsubscribe(self)


class EventLog:
    def __init__(
        self,
        engine: Engine,
        *,
        keep: int = KEEP_EVENTS,
        keep_age: timedelta = KEEP_AGE,
        ordered: OrderedEvents | None = None,
    ) -> None:
        """``ordered``: on PostgreSQL, events are inserted at their transaction's
        commit, in commit order (events/ordered.py)."""
        self._engine = engine
        self._ordered = ordered
        self.keep = keep
        self.keep_age = keep_age
        self._lock = threading.Lock()
        self._subscribers: list[Subscription] = []

    # --- writing -------------------------------------------------------------------

    def record(self, conn: Connection, events: Sequence[Event]) -> None:
        """Insert in the caller's transaction; call notify() after it commits."""
        stamp = datetime.now(UTC)
        rows = [e.row(stamp) for e in events]
        if self._ordered is not None:
            self._ordered.stage(conn, rows)
        else:
            live_repo.insert_events(conn, rows=rows)

    def emit(self, events: Sequence[Event]) -> None:
        if not events:
            return
        with self._engine.begin() as conn:
            self.record(conn, events)
        self.notify()

    def notify(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.wake()

    def prune_quietly(self) -> None:
        """prune(), logging instead of raising (housekeeping on the store writer)."""
        try:
            self.prune()
        except SQLAlchemyError as exc:
            log.warning("events: pruning failed: %s", exc)

    def prune(self) -> int:
        with self._engine.begin() as conn:
            return live_repo.prune_events(
                conn, keep=self.keep, older_than=datetime.now(UTC) - self.keep_age
            )

    # --- reading -------------------------------------------------------------------

    def read(
        self,
        *,
        since: int | None,
        limit: int,
        project_id: str | None = None,
        router_name: str | None = None,
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            rows = live_repo.read_events(
                conn,
                since=since,
                limit=limit,
                project_id=project_id,
                router_name=router_name,
                kind=kind,
            )
        return [_public(row) for row in rows]

    def last_id(self) -> int:
        with self._engine.connect() as conn:
            return live_repo.last_event_id(conn)

    def subscribe(self, loop: asyncio.AbstractEventLoop) -> Subscription:
        subscription = Subscription(self, loop)
        with self._lock:
            self._subscribers.append(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)


def _public(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "time": row["time"].isoformat(),
        "kind": row["kind"],
        "resource_type": row["resource_type"],
        "resource_id": row["resource_id"],
        "router_name": row["router_name"],
        "message": row["message"],
        "data": row["data"],
    }
