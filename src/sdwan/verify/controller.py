"""The intent controller: one thread that keeps every site's generated policy rows
equal to what its intents compile to, and every intent's verdict current.

No thread per intent, no poll per router: the controller follows the event log (the
same rows the SSE stream serves), and a site is looked at when something of it
happened (a session of one of its routers changed, gobgpd came or went, a router's
status or drift changed, its neighbors, policies, uplinks or intents changed), again a
few seconds later (routes converge after the session event), and at least every
``interval`` seconds. A verdict that changes is confirmed by a second look ``settle``
seconds later before it is written with its event (no event for a path that moves
for a moment while gobgpd converges)."""

from __future__ import annotations

import asyncio
import heapq
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from sdwan import logs
from sdwan.domain.intent_verdict import VERDICT_CHANGED, IntentCheck
from sdwan.events.log import EventLog
from sdwan.events.model import Event
from sdwan.service import intent_observe, intent_sync
from sdwan.service.common import ChangeNotifier
from sdwan.service.intent_observe import FibReader, PlanLimits, RibSources
from sdwan.service.uow import reading, unit_of_work
from sdwan.store import intent_repo
from sdwan.store.availability import describe, is_unavailable
from sdwan.store.intent_repo import IntentRecord, IntentStateRecord

log = logging.getLogger(__name__)
FOLLOW_UPS = (0.3, 2.0, 6.0)  # seconds after an event: look, then look again
REWRITE_AFTER = 60.0  # an unchanged check is written at most this often
_SITE_OBJECTS = {"site", "uplink", "intent"}
_OUTAGE_RETRY = 1.0  # seconds between looks while the database cannot be reached


class IntentController:
    def __init__(
        self,
        *,
        engine: Engine,
        events: EventLog,
        notifier: ChangeNotifier,
        sources: RibSources,
        fib: FibReader | None,
        interval: float = 10.0,
        settle: float = 1.0,
        owns: Callable[[str], bool] | None = None,
        limits: PlanLimits | None = None,
    ) -> None:
        self._engine = engine
        self._limits = limits or PlanLimits()  # the prediction's evaluation bound
        self._owns = owns  # replicas: a site is checked by the owner of its first router
        self._events = events
        self._notifier = notifier
        self._sources = sources
        self._fib = fib
        self._interval = interval
        self._settle = settle
        self._heap: list[tuple[float, str]] = []  # (when, site id)
        self._candidates: dict[str, str] = {}  # intent id -> verdict awaiting confirmation
        self._last_event = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake: Any = None

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        self._last_event = self._events.last_id()
        self._thread = threading.Thread(target=self._run, name="intent-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._wake is not None:
            self._wake()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        subscription = self._events.subscribe(asyncio.get_running_loop())
        self._wake = subscription.wake
        next_full = time.monotonic()
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                try:
                    if self._interval > 0 and now >= next_full:
                        for site_id in self._site_ids():
                            self.schedule(site_id, 0.0)
                        next_full = now + self._interval
                    self._follow_events()
                    self._run_due()
                except Exception as exc:  # the thread outlives a database outage
                    if not is_unavailable(exc):
                        raise
                    log.warning("intent checks wait for the database: %s", describe(exc))
                    await subscription.wait(_OUTAGE_RETRY)
                    continue
                wait = (
                    min(
                        [w for w, _ in self._heap[:1]]
                        + ([next_full] if self._interval > 0 else [])
                        + [now + 5.0]
                    )
                    - time.monotonic()
                )
                await subscription.wait(max(0.05, wait))
        finally:
            subscription.close()

    # --- scheduling ------------------------------------------------------------

    def schedule(self, site_id: str, delay: float) -> None:
        heapq.heappush(self._heap, (time.monotonic() + delay, site_id))

    def _run_due(self) -> None:
        now = time.monotonic()
        due: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            _when, site_id = heapq.heappop(self._heap)
            if site_id not in due:
                due.append(site_id)
        for index, site_id in enumerate(due):
            if self._stopping.is_set():
                return
            try:
                if self._mine(site_id):
                    with logs.bound(site_id=site_id):
                        self.evaluate(site_id)
            except Exception as exc:  # one site's trouble must not stop the others
                if is_unavailable(exc):  # none can be checked now: look again later
                    for waiting in due[index:]:
                        self.schedule(waiting, _OUTAGE_RETRY)
                    raise
                log.exception("intent check of site %s failed", site_id)

    def _mine(self, site_id: str) -> bool:
        """One replica checks a site: the one holding the lease of the site's first
        router (by id); a site without routers, every replica."""
        if self._owns is None:
            return True
        with reading(self._engine) as conn:
            site = intent_repo.get_site(conn, key=site_id)
        members = sorted(m.router_uuid for m in site.routers) if site is not None else []
        return not members or self._owns(members[0])

    def _site_ids(self) -> list[str]:
        with reading(self._engine) as conn:
            return intent_repo.all_site_ids(conn)

    def _follow_events(self) -> None:
        with reading(self._engine) as conn:
            found, self._last_event = intent_repo.site_events(
                conn, since=self._last_event, limit=1000, resource_types=sorted(_SITE_OBJECTS)
            )
            if not found:
                return
            site_of_router = intent_repo.sites_by_router_name(conn)
        touched: set[str] = set()
        for event in found:
            if event["kind"] == VERDICT_CHANGED:
                continue
            data = event.get("data") or {}
            if event["resource_type"] in _SITE_OBJECTS and data.get("site"):
                touched.add(str(data["site"]))
            elif event["router_name"] in site_of_router:
                touched.add(site_of_router[event["router_name"]])
        for site_id in touched:
            for delay in FOLLOW_UPS:
                self.schedule(site_id, delay)

    # --- one site --------------------------------------------------------------

    def evaluate(self, site_id: str) -> dict[str, IntentCheck]:
        """Resync the site's generated rows, check its intents, record verdicts."""
        with unit_of_work(self._engine) as work:
            changed = intent_sync.sync(work.conn, self._notifier, site_ids=[site_id])
        if changed:
            log.info("site %s: generated policy caught up: %s", site_id, changed)
        with reading(self._engine) as conn:
            site = intent_repo.get_site(conn, key=site_id)
            if site is None:
                return {}
            snapshot = intent_observe.load_site(conn, site)
            versions = {
                i.id: i.version for i in intent_repo.owned_of(conn, IntentRecord, site_id=site.id)
            }
            ids = [i.id for i in snapshot.site.intents]
            stored = intent_repo.states_of(conn, intent_ids=ids)
        if not ids:
            return {}
        observation = intent_observe.observe(
            snapshot, self._sources, fib=self._fib, limits=self._limits
        )
        names = {i.id: i.name for i in snapshot.site.intents}
        for intent_id, check in observation.checks.items():
            version = versions.get(intent_id, 0)
            self._record(site, names[intent_id], intent_id, version, check, stored.get(intent_id))
        return observation.checks

    def _record(
        self,
        site: Any,
        name: str,
        intent_id: str,
        version: int,
        check: IntentCheck,
        stored: IntentStateRecord | None,
    ) -> None:
        verdict = str(check.verdict)
        stamp = datetime.now(UTC)
        paths = [asdict(p) for p in check.paths]
        previous = stored.verdict if stored is not None else None
        changing = previous is not None and previous != verdict
        same_intent = stored is not None and stored.intent_version == version
        if changing and same_intent and self._candidates.get(intent_id) != verdict:
            self._candidates[intent_id] = verdict  # confirm on a second look
            self.schedule(site.id, self._settle)
            return
        self._candidates.pop(intent_id, None)
        if previous == verdict and stored is not None:
            fresh = (stamp - stored.checked_at).total_seconds() < REWRITE_AFTER
            unchanged = stored.detail == check.detail and stored.paths == paths
            if fresh and unchanged and stored.intent_version == version:
                return
        state = IntentStateRecord(
            intent_id,
            version,
            verdict,
            check.detail,
            stored.since if stored is not None and previous == verdict else stamp,
            stamp,
            paths,
        )
        events = []
        if previous != verdict:
            text = f"intent {site.name}/{name}: {previous or 'new'} -> {verdict}: {check.detail}"
            events.append(
                Event(
                    VERDICT_CHANGED,
                    "intent",
                    intent_id,
                    site.name,
                    text[:2000],
                    {
                        "site": site.id,
                        "verdict": verdict,
                        "previous": previous,
                        "detail": check.detail,
                    },
                    site.project_id,
                )
            )
            log.info(text)
        with unit_of_work(self._engine) as work:
            intent_repo.write_state(work.conn, state=state)
            if events:
                self._events.record(work.conn, events)
        if events:
            self._events.notify()
