"""Observed state: watchers and workers hand the LiveWriter observations; on the store
writer's thread (store/batch_writer.py) it folds every observation of a batch in
order (so a flap inside a batch is still counted and reported), then writes the
changed rows and the events in that batch's ONE transaction. A flapping fleet
therefore costs a transaction per batch, not per watch event.

This module is the queue and the batch; what a batch does with session observations
is session_fold.py, with a router's reachability and drift router_live.py."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection

from sdwan.domain.session import SessionObservation
from sdwan.events.log import EventLog
from sdwan.events.model import Event
from sdwan.live.model import Item, RouterCache
from sdwan.live.router_live import write_router_live
from sdwan.live.session_fold import SessionFold, flush_sessions
from sdwan.store import live_repo
from sdwan.store.batch_writer import BatchWriter

log = logging.getLogger(__name__)


class LiveWriter:
    """Folds observations in order and writes the result through the store writer
    (``BatchWriter``): everything queued when its job runs goes into that batch's
    transaction."""

    def __init__(self, writer: BatchWriter, events: EventLog) -> None:
        self._writer = writer
        self._events = events
        self._lock = threading.Lock()
        self._queue: list[Item] = []
        self._cache: dict[str, RouterCache] = {}
        # replicas: only the router's owner writes its live state (reconcile/ownership)
        self.owns: Callable[[str], bool] = lambda _router_id: True

    # --- producers (any thread) ----------------------------------------------------

    def _put(self, item: Item) -> None:
        with self._lock:
            self._queue.append(item)
            first = len(self._queue) == 1
        if first:
            self._writer.submit(_Drain(self))

    def observe(
        self, router_id: str, observations: Sequence[SessionObservation], *, complete: bool = False
    ) -> None:
        self._put(Item(router_id, _now(), list(observations), complete=complete))

    def counters(self, router_id: str, observations: Sequence[SessionObservation]) -> None:
        """Prefix and NOTIFICATION counters read outside the watch stream's order (by a
        reconcile pass): they update counters only, never a session's state, so an
        older read can not undo a newer event."""
        self._put(Item(router_id, _now(), list(observations), counters_only=True))

    def gobgpd_unreachable(self, router_id: str, reason: str) -> None:
        self._put(Item(router_id, _now(), unreachable=reason))

    def reachability(self, router_id: str, *, reachable: bool, error: str, restarted: bool) -> None:
        self._put(Item(router_id, _now(), reachability=(reachable, error, restarted)))

    def drift(self, router_id: str, differences: list[str]) -> None:
        self._put(Item(router_id, _now(), drift=differences))

    def expect_peers(self, router_id: str, ids: dict[str, str]) -> None:
        """The reconciler is about to add these peers (address -> neighbor id): their
        echo on the watch stream, queued after this, needs no lookup in the store."""
        if ids:
            self._put(Item(router_id, _now(), known_ids=dict(ids)))

    def forget(self, router_id: str) -> None:
        with self._lock:
            self._cache.pop(router_id, None)

    # --- on the store writer's thread ----------------------------------------------

    def _take(self) -> list[Item]:
        with self._lock:
            batch, self._queue = self._queue, []
        return batch

    def _write(self, conn: Connection, batch: list[Item]) -> bool:
        """Fold ``batch`` into the caches and write what changed; True if it recorded
        events. On failure the caches are dropped (re-read from the store on retry)."""
        try:
            return self._write_batch(conn, batch)
        except Exception:
            with self._lock:
                self._cache.clear()
            raise

    def _write_batch(self, conn: Connection, batch: list[Item]) -> bool:
        events: list[Event] = []
        names = live_repo.router_identities(conn, ids={item.router_id for item in batch})
        dirty: dict[str, tuple[RouterCache, set[str]]] = {}
        fold = SessionFold()
        for item in batch:
            if item.router_id not in names or not self.owns(item.router_id):
                continue  # the router is gone, or another replica drives it now
            name, project = names[item.router_id]
            cache = self._router_cache(conn, item.router_id)
            if item.known_ids is not None:
                cache.neighbor_ids.update(item.known_ids)
                continue
            if item.reachability is not None or item.drift is not None:
                events += write_router_live(conn, item, cache, name, project)
                continue
            changed = fold.fold(conn, item, cache, name, project, events)
            dirty.setdefault(item.router_id, (cache, set()))[1].update(changed)
        for router_id, (cache, ids) in dirty.items():
            flush_sessions(conn, router_id, cache, ids)
        if events:
            self._events.record(conn, events)
        return bool(events)

    def _router_cache(self, conn: Connection, router_id: str) -> RouterCache:
        with self._lock:
            cache = self._cache.get(router_id)
        if cache is None:
            records = live_repo.session_records(conn, router_id=router_id)
            cache = RouterCache(
                neighbor_ids=live_repo.neighbor_ids(conn, router_id=router_id),
                records=records,
            )
            with self._lock:
                self._cache[router_id] = cache
        return cache


class _Drain:
    """One store-writer job: takes what is queued when it first runs and keeps it, so
    a retry (after a failed batch) writes the same items."""

    def __init__(self, live: LiveWriter) -> None:
        self._live = live
        self._batch: list[Item] | None = None

    def __call__(self, conn: Connection) -> bool:
        if self._batch is None:
            self._batch = self._live._take()
        return bool(self._batch) and self._live._write(conn, self._batch)


def _now() -> datetime:
    return datetime.now(UTC)
