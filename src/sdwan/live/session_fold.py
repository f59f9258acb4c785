"""Folding a batch's session observations into each router's memory (RouterCache),
on the store writer's thread: which neighbor each address is (read from the store as
little as possible), each session's next record, the ``session.changed`` events, and
the neighbor_live rows of what changed. The live writer (writer.py) runs one
SessionFold per batch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

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
from sdwan.events.model import SESSION_CHANGED, Event
from sdwan.live.model import Item, RouterCache
from sdwan.store import live_repo

LOOKUP_AT_MOST = 500  # unknown addresses looked up by name; more: the whole map


class SessionFold:
    """One batch's folding; what it remembers lasts for that batch only."""

    def __init__(self) -> None:
        self._refreshed: set[str] = set()  # routers whose neighbor ids were read in this batch
        self._asked: dict[str, set[str]] = {}  # router id -> addresses looked up in this batch
        self._session_events: dict[str, int] = {}  # neighbor id -> index of its last event here

    def fold(
        self,
        conn: Connection,
        item: Item,
        cache: RouterCache,
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
                event = session_event(item.router_id, name, project, neighbor_id, obs, record)
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
        self, conn: Connection, router_id: str, cache: RouterCache, *, force: bool = False
    ) -> None:
        """Read the router's neighbor ids: once per batch at most (a bulk create brings
        thousands of new peers in a few batches), unless the item needs them now."""
        if force or router_id not in self._refreshed:
            cache.neighbor_ids = live_repo.neighbor_ids(conn, router_id=router_id)
            self._refreshed.add(router_id)

    def _learn_ids(
        self, conn: Connection, router_id: str, cache: RouterCache, addresses: set[str]
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
        if len(unknown) > LOOKUP_AT_MOST:
            self._refresh_ids(conn, router_id, cache)
        else:
            found = live_repo.neighbor_ids(conn, router_id=router_id, addresses=unknown)
            cache.neighbor_ids.update(found)

    def _fold_counters(self, conn: Connection, item: Item, cache: RouterCache) -> set[str]:
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
                remote_router_id=obs.remote_router_id or current.remote_router_id,
            )
            if record != current:
                cache.records[neighbor_id] = record
                changed.add(neighbor_id)
        return changed


def flush_sessions(conn: Connection, router_id: str, cache: RouterCache, ids: set[str]) -> None:
    """Write the neighbor_live rows of the sessions a batch changed (``ids``); those of
    neighbors deleted meanwhile are dropped from the cache instead."""
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
    stamp = datetime.now(UTC)
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


def session_event(
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
            "remote_router_id": record.remote_router_id,
        },
        project,
    )
