"""Observed state: watchers and workers hand the LiveWriter observations; on the store
writer's thread (store/batch_writer.py) it folds every observation of a batch in
order (so a flap inside a batch is still counted and reported), then writes the
changed rows and the events in that batch's ONE transaction. A flapping fleet
therefore costs a transaction per batch, not per watch event."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from sdwan.domain.session import (
    ESTABLISHED,
    UNKNOWN,
    SessionObservation,
    SessionRecord,
    advance,
    down_reason,
    up_down,
)
from sdwan.events.log import EventLog
from sdwan.events.model import ROUTER_REACHABILITY, SESSION_CHANGED, Event
from sdwan.store import live_repo
from sdwan.store.batch_writer import BatchWriter

log = logging.getLogger(__name__)

_LOOKUP_AT_MOST = 500  # unknown addresses looked up by name; more: the whole map


@dataclass
class _Item:
    router_id: str
    at: datetime
    observations: list[SessionObservation] = field(default_factory=list)
    complete: bool = False  # a full ListPeer: store neighbors missing from it are not on gobgpd
    counters_only: bool = False  # read by a pass: may be older than the stream's last event
    unreachable: str | None = None  # gobgpd went away: every session is unknown
    reachability: tuple[bool, str, bool] | None = None  # reachable, error, new gobgpd instance
    drift: list[str] | None = None
    known_ids: dict[str, str] | None = None  # address -> neighbor id, from the reconciler


@dataclass
class _RouterCache:
    neighbor_ids: dict[str, str]  # address -> neighbor id
    records: dict[str, SessionRecord]  # neighbor id -> live record
    last: dict[str, SessionObservation] = field(default_factory=dict)  # by address, with counters
    reachable: bool | None = None


class LiveWriter:
    """Folds observations in order and writes the result through the store writer
    (``BatchWriter``): everything queued when its job runs goes into that batch's
    transaction."""

    def __init__(self, writer: BatchWriter, events: EventLog) -> None:
        self._writer = writer
        self._events = events
        self._lock = threading.Lock()
        self._queue: list[_Item] = []
        self._cache: dict[str, _RouterCache] = {}
        self._refreshed: set[str] = set()
        self._asked: dict[str, set[str]] = {}
        self._session_events: dict[str, int] = {}
        # replicas: only the router's owner writes its live state (reconcile/ownership)
        self.owns: Callable[[str], bool] = lambda _router_id: True

    # --- producers (any thread) ----------------------------------------------------

    def _put(self, item: _Item) -> None:
        with self._lock:
            self._queue.append(item)
            first = len(self._queue) == 1
        if first:
            self._writer.submit(_Drain(self))

    def observe(
        self, router_id: str, observations: Sequence[SessionObservation], *, complete: bool = False
    ) -> None:
        self._put(_Item(router_id, _now(), list(observations), complete=complete))

    def counters(self, router_id: str, observations: Sequence[SessionObservation]) -> None:
        """Prefix and NOTIFICATION counters read outside the watch stream's order (by a
        reconcile pass): they update counters only, never a session's state, so an
        older read can not undo a newer event."""
        self._put(_Item(router_id, _now(), list(observations), counters_only=True))

    def gobgpd_unreachable(self, router_id: str, reason: str) -> None:
        self._put(_Item(router_id, _now(), unreachable=reason))

    def reachability(self, router_id: str, *, reachable: bool, error: str, restarted: bool) -> None:
        self._put(_Item(router_id, _now(), reachability=(reachable, error, restarted)))

    def drift(self, router_id: str, differences: list[str]) -> None:
        self._put(_Item(router_id, _now(), drift=differences))

    def expect_peers(self, router_id: str, ids: dict[str, str]) -> None:
        """The reconciler is about to add these peers (address -> neighbor id): their
        echo on the watch stream, queued after this, needs no lookup in the store."""
        if ids:
            self._put(_Item(router_id, _now(), known_ids=dict(ids)))

    def forget(self, router_id: str) -> None:
        with self._lock:
            self._cache.pop(router_id, None)

    # --- on the store writer's thread ----------------------------------------------

    def _take(self) -> list[_Item]:
        with self._lock:
            batch, self._queue = self._queue, []
        return batch

    def _write(self, conn: Connection, batch: list[_Item]) -> bool:
        """Fold ``batch`` into the caches and write what changed; True if it recorded
        events. On failure the caches are dropped (re-read from the store on retry)."""
        try:
            return self._write_batch(conn, batch)
        except Exception:
            with self._lock:
                self._cache.clear()
            raise

    def _write_batch(self, conn: Connection, batch: list[_Item]) -> bool:
        events: list[Event] = []
        names = live_repo.router_identities(conn, ids={item.router_id for item in batch})
        dirty: dict[str, tuple[_RouterCache, set[str]]] = {}
        self._refreshed = set()  # routers whose neighbor ids were read in this batch
        self._asked = {}  # router id -> addresses whose ids were looked up in this batch
        self._session_events = {}  # neighbor id -> index of its last session event here
        for item in batch:
            if item.router_id not in names or not self.owns(item.router_id):
                continue  # the router is gone, or another replica drives it now
            name, project = names[item.router_id]
            cache = self._router_cache(conn, item.router_id)
            if item.known_ids is not None:
                cache.neighbor_ids.update(item.known_ids)
                continue
            if item.reachability is not None or item.drift is not None:
                events += self._write_router(conn, item, cache, name, project)
                continue
            changed = self._fold(conn, item, cache, name, project, events)
            dirty.setdefault(item.router_id, (cache, set()))[1].update(changed)
        for router_id, (cache, ids) in dirty.items():
            self._flush_sessions(conn, router_id, cache, ids)
        if events:
            self._events.record(conn, events)
        return bool(events)

    def _router_cache(self, conn: Connection, router_id: str) -> _RouterCache:
        with self._lock:
            cache = self._cache.get(router_id)
        if cache is None:
            records = live_repo.session_records(conn, router_id=router_id)
            cache = _RouterCache(
                neighbor_ids=live_repo.neighbor_ids(conn, router_id=router_id),
                records=records,
            )
            with self._lock:
                self._cache[router_id] = cache
        return cache

    def _fold(
        self,
        conn: Connection,
        item: _Item,
        cache: _RouterCache,
        name: str,
        project: str | None,
        events: list[Event],
    ) -> set[str]:
        """Apply the item's observations to the cache; returns the neighbor ids changed."""
        if item.counters_only:
            return self._fold_counters(conn, item, cache)
        observations = list(item.observations)
        addresses = {o.address for o in observations}
        if item.unreachable is not None or item.complete:
            self._refresh_ids(conn, item.router_id, cache, force=True)
        else:
            self._learn_ids(conn, item.router_id, cache, addresses)  # new peers (or strays)
        if item.unreachable is not None:
            observations = [SessionObservation(a, UNKNOWN) for a in cache.neighbor_ids]
        elif item.complete:
            missing = set(cache.neighbor_ids) - addresses
            observations += [SessionObservation(a, UNKNOWN) for a in sorted(missing)]
        changed: set[str] = set()
        for obs in observations:
            neighbor_id = cache.neighbor_ids.get(obs.address)
            if neighbor_id is None:
                continue  # a peer the store does not know: drift, the reconciler's business
            before = cache.last.get(obs.address)
            if item.unreachable is not None:
                reason = item.unreachable
            elif obs.state == UNKNOWN and not obs.removed:
                reason = "peer not configured on gobgpd"
            else:
                reason = down_reason(obs, before)
            current = cache.records.get(neighbor_id)
            record = advance(current, obs, now=item.at, reason=reason)
            if obs.notifications_received is not None:
                cache.last[obs.address] = obs
            if record == current:
                continue
            cache.records[neighbor_id] = record
            changed.add(neighbor_id)
            if (
                current is None
                or current.state != record.state
                or current.admin_down != record.admin_down
            ):
                event = _session_event(item.router_id, name, project, neighbor_id, obs, record)
                self._add_session_event(events, neighbor_id, event, record)
        return changed

    def _add_session_event(
        self, events: list[Event], neighbor_id: str, event: Event, record: SessionRecord
    ) -> None:
        """One event per neighbor and batch for moves between states that are not
        Established (IDLE -> ACTIVE -> CONNECT within a few ms says "not up" once, with
        the latest state); every move into or out of Established keeps its own event."""
        index = self._session_events.get(neighbor_id)
        if (
            index is not None
            and record.state != ESTABLISHED
            and events[index].data["session_state"] != ESTABLISHED
            and events[index].data["flap_count"] == record.flap_count
        ):
            events[index] = event
            return
        self._session_events[neighbor_id] = len(events)
        events.append(event)

    def _refresh_ids(
        self, conn: Connection, router_id: str, cache: _RouterCache, *, force: bool = False
    ) -> None:
        """Read the router's neighbor ids: once per batch at most (a bulk create brings
        thousands of new peers in a few batches), unless the item needs them now."""
        if force or router_id not in self._refreshed:
            cache.neighbor_ids = live_repo.neighbor_ids(conn, router_id=router_id)
            self._refreshed.add(router_id)

    def _learn_ids(
        self, conn: Connection, router_id: str, cache: _RouterCache, addresses: set[str]
    ) -> None:
        """Ids of peers not seen before. Only those are read, so that one new neighbor
        does not read its router's thousands; an address is asked once per batch (a
        stray the store does not know is asked again in a later batch); many unknown
        at once (a bulk create) read the router's whole map instead."""
        asked = self._asked.setdefault(router_id, set())
        unknown = addresses - cache.neighbor_ids.keys() - asked
        if not unknown:
            return
        asked |= unknown
        if len(unknown) > _LOOKUP_AT_MOST:
            self._refresh_ids(conn, router_id, cache)
        else:
            found = live_repo.neighbor_ids(conn, router_id=router_id, addresses=unknown)
            cache.neighbor_ids.update(found)

    def _fold_counters(self, conn: Connection, item: _Item, cache: _RouterCache) -> set[str]:
        self._learn_ids(conn, item.router_id, cache, {o.address for o in item.observations})
        changed: set[str] = set()
        for obs in item.observations:
            neighbor_id = cache.neighbor_ids.get(obs.address)
            current = cache.records.get(neighbor_id) if neighbor_id is not None else None
            if neighbor_id is None or current is None:
                continue  # no session seen yet: the stream's snapshot comes first
            if obs.notifications_received is not None:
                cache.last[obs.address] = obs
            if current.state != ESTABLISHED or obs.state != ESTABLISHED:
                continue  # counters of a session that is not (or no longer) up mean nothing
            record = replace(
                current,
                prefixes_received=obs.received,
                prefixes_accepted=obs.accepted,
            )
            if record != current:
                cache.records[neighbor_id] = record
                changed.add(neighbor_id)
        return changed

    def _flush_sessions(
        self, conn: Connection, router_id: str, cache: _RouterCache, ids: set[str]
    ) -> None:
        alive = live_repo.existing_neighbors(conn, ids=ids)
        if ids - alive:  # deleted since their ids were read: their addresses are asked again
            cache.neighbor_ids = {
                address: nid
                for address, nid in cache.neighbor_ids.items()
                if nid in alive or nid not in ids
            }
            for gone in ids - alive:
                cache.records.pop(gone, None)
        stored = set(live_repo.sessions_by_id(conn, ids=alive))
        stamp = _now()
        inserts, updates = [], []
        for neighbor_id in sorted(alive):
            row = {
                "neighbor_id": neighbor_id,
                **live_repo.session_row(cache.records[neighbor_id]),
                "updated_at": stamp,
            }
            if neighbor_id in stored:
                updates.append(row)
            else:
                inserts.append({**row, "router_uuid": router_id, "prefixes_advertised": None})
        live_repo.write_sessions(conn, inserts=inserts, updates=updates)

    def _write_router(
        self, conn: Connection, item: _Item, cache: _RouterCache, name: str, project: str | None
    ) -> list[Event]:
        if item.drift is not None:
            if live_repo.router_lives(conn, ids=[item.router_id]):
                drift = {"drift": item.drift, "updated_at": item.at}
                live_repo.write_router_live(conn, router_id=item.router_id, values=drift)
            return []
        assert item.reachability is not None
        reachable, error, restarted = item.reachability
        values: dict[str, Any] = {
            "reachable": reachable,
            "last_error": error,
            "updated_at": item.at,
        }
        if reachable != cache.reachable:
            values["reachable_since"] = item.at
        if reachable and (restarted or cache.reachable is not True):
            values["gobgpd_up_since"] = item.at
        if not reachable:
            values["gobgpd_up_since"] = None
        existing = live_repo.router_lives(conn, ids=[item.router_id]).get(item.router_id)
        if existing is None:
            values.setdefault("reachable_since", item.at)
            values.setdefault("gobgpd_up_since", item.at if reachable else None)
            values["drift"] = []
        elif reachable and existing["reachable"] and not restarted:
            values.pop("gobgpd_up_since", None)  # the same gobgpd, seen again after our restart
            values.pop("reachable_since", None)
        live_repo.write_router_live(conn, router_id=item.router_id, values=values)
        was = (
            cache.reachable
            if cache.reachable is not None
            else (existing["reachable"] if existing is not None else None)
        )
        cache.reachable = reachable
        if was == reachable and not restarted:
            return []
        if reachable:
            message = f"gobgpd of router {name} {'restarted' if restarted else 'reachable'}"
        else:
            message = f"gobgpd of router {name} unreachable: {error}"
        return [
            Event(
                ROUTER_REACHABILITY,
                "router",
                item.router_id,
                name,
                message,
                {"reachable": reachable, "restarted": restarted, "error": error},
                project,
            )
        ]


class _Drain:
    """One store-writer job: takes what is queued when it first runs and keeps it, so
    a retry (after a failed batch) writes the same items."""

    def __init__(self, live: LiveWriter) -> None:
        self._live = live
        self._batch: list[_Item] | None = None

    def __call__(self, conn: Connection) -> bool:
        if self._batch is None:
            self._batch = self._live._take()
        return bool(self._batch) and self._live._write(conn, self._batch)


def _now() -> datetime:
    return datetime.now(UTC)


def _session_event(
    router_id: str,
    name: str,
    project: str | None,
    neighbor_id: str,
    obs: SessionObservation,
    record: SessionRecord,
) -> Event:
    text = f"{name}/{obs.address}: session {record.state}"
    if record.admin_down:
        text += " (admin down)"
    if record.state != ESTABLISHED and record.last_down_reason:
        text += f": {record.last_down_reason}"
    return Event(
        SESSION_CHANGED,
        "neighbor",
        neighbor_id,
        name,
        text,
        {
            "router": router_id,
            "address": obs.address,
            "session_state": record.state,
            "session": up_down(record.state),
            "admin_down": record.admin_down,
            "flap_count": record.flap_count,
            "last_down_reason": record.last_down_reason,
        },
        project,
    )
