"""The ChangeNotifier of a replica on PostgreSQL: a change reaches the replica that
owns the router, whichever replica accepted it.

The NOTIFY goes out in the change's own transaction (PostgreSQL delivers it exactly
when that commits: a change rolled back is never announced, one committed always is,
even if this process dies right after the commit); this replica's own reconciler is
called after the commit, as with one process, and skips what it does not own. The
routers a transaction changed are announced together as it commits, in one statement
however many they are (a bulk create of 400 routers costs what one does)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, event

from sdwan.events.feed import ROUTERS_CHANNEL, notify, notify_all, router_payload
from sdwan.service import uow
from sdwan.service.common import ChangeNotifier

_PENDING = "sdwan.pending_router_notes"


class PublishingNotifier:
    def __init__(self, engine: Engine, local: ChangeNotifier, *, origin: str) -> None:
        self._engine = engine
        self._local = local
        self._origin = origin
        event.listen(engine, "commit", _flush)
        event.listen(engine, "rollback", _discard)

    def router_changed(self, router_id: str, addresses: set[str] | None = None) -> None:
        payload = router_payload(self._origin, router_id, addresses)
        work = uow.current()
        if work is None:
            with self._engine.begin() as conn:
                notify(conn, ROUTERS_CHANNEL, payload)
            self._local.router_changed(router_id, addresses)
            return
        work.conn.info.setdefault(_PENDING, []).append(payload)
        uow.after_commit(lambda: self._local.router_changed(router_id, addresses))


def _flush(conn: Connection) -> None:
    payloads = conn.info.pop(_PENDING, None)
    if payloads:
        notify_all(conn, ROUTERS_CHANNEL, payloads)


def _discard(conn: Connection) -> None:
    conn.info.pop(_PENDING, None)
