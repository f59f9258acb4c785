"""Events in commit order on PostgreSQL.

SSE readers follow the ``events`` table by id: they read the rows after the last id
they sent. With several writers (API requests, the store writer, other replicas) ids
come from a sequence at insert time, and a transaction that took id 9 may commit after
the one that took id 10: a reader that already sent 10 would never send 9. So on
PostgreSQL a transaction's events are inserted when it commits, under one advisory
lock held until the commit is done: ids are handed out in commit order, and a reader
never sees a later id before an earlier one. The same moment sends the NOTIFY that
wakes the readers of every replica (delivered by PostgreSQL only if the transaction
commits). Nothing else is done while the lock is held, so it can not deadlock with
the row locks of the transaction's own changes, which are all taken before it.

SQLite has one writer at a time: events are inserted at once, as they always were."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, event, text

from sdwan.store import live_repo

EVENTS_LOCK = 0x5D3A_0002
EVENTS_CHANNEL = "sdwan_events"
_PENDING = "sdwan.pending_events"


class OrderedEvents:
    """Installed on every PostgreSQL engine that writes events; ``origin`` names this
    process in the NOTIFY, so its own listener can skip what it already knows."""

    def __init__(self, origin: str) -> None:
        self._origin = origin

    def install(self, engine: Engine) -> None:
        event.listen(engine, "commit", self._flush)
        event.listen(engine, "rollback", _discard)

    def stage(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` when ``conn``'s transaction commits."""
        conn.info.setdefault(_PENDING, []).extend(rows)

    def _flush(self, conn: Connection) -> None:
        rows = conn.info.pop(_PENDING, None)
        if not rows:
            return
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENTS_LOCK})
        live_repo.insert_events(conn, rows=rows)
        conn.execute(
            text("SELECT pg_notify(:channel, :origin)"),
            {"channel": EVENTS_CHANNEL, "origin": self._origin},
        )


def _discard(conn: Connection) -> None:
    conn.info.pop(_PENDING, None)
