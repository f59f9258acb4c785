"""The quality controller: one thread with an asyncio loop that follows every probe
agent (a task each, ``AgentLink``), keeps the uplinks' quality current in the store
(latest report, history, events), and steers the intents that have an SLA class.

- **Which agents**: the one beside each site router (``probe_agent`` of the site's
  router, or ``<gobgpd socket>.probe`` when that socket exists), each configured with
  what it must measure (domain/probe_plan.py). The inputs are read again when a site,
  uplink, intent, SLA class or router changes (the event log, as the intent controller
  follows it), every ``reload_every`` seconds (an agent that appeared), and the
  configurations recomputed when an agent reports a new local address (the far
  agents' default targets).
- **Fold**: each stream line goes to ``QualityFold`` (rows, history, events), written
  by the store writer in its batches: never on this loop.
- **Steering**: a change line (an uplink's state or class state moved) runs the rules
  for the intents using that uplink at once (the fast path); a tick every ``tick``
  seconds runs them for all (hold-downs, minimum intervals). Moves are written off the
  loop by one worker thread, one at a time, each in its own unit of work.
- **Replicas** (PostgreSQL): an agent is followed by the replica that holds its
  router's lease; an intent is steered by the replica holding its site's first router
  (as the intent controller checks it). What crosses replicas goes through the store:
  the reports (``uplink_quality``, written at once on a change, else once a second)
  that the steering replica reads every tick for the uplinks it does not follow, and
  the steering state (``intent_steering``), read again when a site moves here."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from sdwan.domain.probe_plan import empty_config
from sdwan.domain.sla import UplinkQuality
from sdwan.domain.uplink_report import parse_line
from sdwan.events.log import EventLog
from sdwan.events.model import Event
from sdwan.metrics import Metrics
from sdwan.quality import history
from sdwan.quality.agent_link import AgentLink
from sdwan.quality.fold import QualityFold
from sdwan.quality.inputs import QualityInputs, SteeredIntent, load_inputs
from sdwan.quality.steering import Outcome, Steerer
from sdwan.service.common import ChangeNotifier
from sdwan.service.intent_steering import uplink_quality
from sdwan.store import intent_repo, quality_repo
from sdwan.store.availability import describe, is_unavailable
from sdwan.store.batch_writer import JobSink
from sdwan.store.quality_repo import HistoryBucket, UplinkQualityRecord

__all__ = ["QualityController"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_INPUT_OBJECTS = ("site", "uplink", "intent", "sla_class", "router")
HISTORY_EVERY = 10.0  # seconds between writes of the open history buckets
PRUNE_EVERY = 600.0  # seconds between prunes of the history


class QualityController:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: JobSink,
        events: EventLog,
        notifier: ChangeNotifier,
        metrics: Metrics,
        owns: Callable[[str], bool] | None = None,
        tick: float = 1.0,
        write_interval: float = 1.0,
        reload_every: float = 10.0,
        history_every: float = HISTORY_EVERY,
        agent_timeout: float = 2.0,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._events = events
        self._metrics = metrics
        self._owns = owns  # replicas: whose routers' agents and sites are ours
        self._tick = tick
        self._reload_every = reload_every
        self._history_every = history_every
        self._agent_timeout = agent_timeout
        self.fold = QualityFold(write_interval=write_interval)
        self.steerer = Steerer(engine=engine, notifier=notifier, events=events, metrics=metrics)
        self._inputs = QualityInputs()
        self._links: dict[str, AgentLink] = {}
        self._remote: dict[str, UplinkQuality] = {}  # replicas: uplinks followed elsewhere
        self._last_event = 0
        self._dirty = True  # inputs to read again
        self._configs_dirty = False
        self._mine: frozenset[str] = frozenset()  # intents steered here
        self._stopping = threading.Event()
        self._wake: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="quality-store")

    # --- lifecycle (any thread) ------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="quality-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._wake is not None:
            self._wake()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._pool.shutdown(wait=True)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _store(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking store work on the worker thread (one at a time, in order)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        subscription = self._events.subscribe(loop)
        self._wake = subscription.wake
        next_reload = next_history = time.monotonic()
        next_prune = next_history + 60.0
        try:
            self._last_event = await self._store(self._events.last_id)
            while not self._stopping.is_set():
                now = time.monotonic()
                try:
                    if self._dirty or now >= next_reload:
                        await self._reload()
                        next_reload = now + self._reload_every
                    if self._owns is not None:
                        await self._read_remote()
                    if self._configs_dirty:
                        self._configure()
                    self._steer(None, time.time())
                    history_due, prune_due = now >= next_history, now >= next_prune
                    if history_due:
                        next_history = now + self._history_every
                    if prune_due:
                        next_prune = now + PRUNE_EVERY
                    self._flush(with_history=history_due, prune=prune_due)
                    if await subscription.wait(self._tick):
                        await self._follow_events()
                except Exception as exc:  # the thread outlives a database outage, a bug
                    if is_unavailable(exc):
                        log.warning("path quality waits for the database: %s", describe(exc))
                    else:
                        log.exception("quality controller")
                    await subscription.wait(self._tick)
        finally:
            subscription.close()
            await asyncio.gather(*(link.stop() for link in self._links.values()))
            self._links.clear()
            self._flush(with_history=True)

    # --- inputs ----------------------------------------------------------------------

    def _read_inputs(self) -> QualityInputs:
        with self._engine.connect() as conn:
            return load_inputs(conn)

    async def _reload(self) -> None:
        inputs = await self._store(self._read_inputs)
        self._dirty = False
        self._inputs = inputs
        self.fold.reset(inputs.uplinks, inputs.stored)
        self._mine = frozenset(i.id for i in inputs.intents if self._steers(i))
        self.steerer.reset(
            [i for i in inputs.intents if i.id in self._mine], inputs.steering, inputs.uplinks
        )
        self._configure()

    def _steers(self, intent: SteeredIntent) -> bool:
        return self._owns is None or intent.first_router is None or self._owns(intent.first_router)

    def _new_events(self) -> bool:
        """Whether an event since the last look changed the inputs."""
        with self._engine.connect() as conn:
            found, self._last_event = intent_repo.site_events(
                conn, since=self._last_event, limit=1000, resource_types=_INPUT_OBJECTS
            )
        return any(
            e["resource_type"] in _INPUT_OBJECTS and str(e["kind"]).startswith("resource.")
            for e in found
        )

    async def _follow_events(self) -> None:
        if await self._store(self._new_events):
            self._dirty = True

    # --- agents ----------------------------------------------------------------------

    def _configure(self) -> None:
        """Follow the agents of the routers held here, each with its configuration."""
        self._configs_dirty = False
        configs = self._inputs.configs(self.fold.local_addresses)
        wanted = {
            r: a for r, a in self._inputs.agents.items() if self._owns is None or self._owns(r)
        }
        for router_id, old in list(self._links.items()):
            agent = wanted.get(router_id)
            if agent is None or agent.address != old.agent.address:
                del self._links[router_id]
                self._spawn(old.stop())
                self.fold.drop(self._uplinks_of(router_id))  # another replica's now
        for router_id, agent in wanted.items():
            desired = configs.get(router_id) or empty_config()
            link = self._links.get(router_id)
            if link is None:
                self._links[router_id] = AgentLink(
                    self, agent, desired, timeout=self._agent_timeout
                )
            else:
                link.configure(desired)
        mine = frozenset(i.id for i in self._inputs.intents if self._steers(i))
        if mine != self._mine:
            self._dirty = True  # a site moved here or away: its state from the store

    def _spawn(self, coro: Any) -> None:
        asyncio.get_running_loop().create_task(coro)

    def _uplinks_of(self, router_id: str) -> list[str]:
        return [u.id for u in self._inputs.uplinks.values() if u.router_id == router_id]

    def _lost(self, link: AgentLink, why: str) -> None:
        changed = self.fold.unreachable(
            link.agent.address, self._uplinks_of(link.agent.router_id), why, now=time.time()
        )
        if changed:
            self._steer(changed, time.time())
            self._flush()

    # LinkOwner: called on the loop by the links

    def line(self, link: AgentLink, line: dict[str, Any]) -> None:
        try:
            self._line(link, line)
        except Exception:  # one bad line must not end the agent's stream
            log.exception("probe agent %s: a line not folded", link.agent.address)

    def _line(self, link: AgentLink, line: dict[str, Any]) -> None:
        kind, reports = parse_line(line)
        mine = set(self._uplinks_of(link.agent.router_id))
        reports = {u: r for u, r in reports.items() if u in mine}
        folded = self.fold.fold(link.agent.address, kind, reports, now=time.time())
        if folded.addresses:
            self._configs_dirty = True
            self._configure()
        if folded.changed:
            self._steer(folded.changed, time.time())  # the fast path
        if self.fold.has_urgent():
            self._flush()

    def connected(self, link: AgentLink, reconnect: bool) -> None:
        if reconnect:
            self._metrics.inc("sdwan_probe_agent_reconnects_total", router=link.agent.router_name)
        log.info("probe agent of %s at %s: following", link.agent.router_name, link.agent.address)

    def broke(self, link: AgentLink, why: str) -> None:
        log.warning("probe agent of %s: %s", link.agent.router_name, why)
        self._lost(link, f"probe agent unreachable: {why}")

    # --- steering --------------------------------------------------------------------

    def _quality(self, uplink_id: str) -> UplinkQuality | None:
        report = self.fold.latest.get(uplink_id)
        if report is not None:
            return report.quality()
        return self._remote.get(uplink_id)

    def _steer(self, uplinks: set[str] | None, now: float) -> None:
        loop = asyncio.get_running_loop()
        for outcome in self.steerer.decide(self._quality, now, uplinks):
            future = loop.run_in_executor(self._pool, self.steerer.persist, outcome)
            future.add_done_callback(partial(self._persisted, outcome))

    def _persisted(self, outcome: Outcome, future: asyncio.Future[None]) -> None:
        """On the loop: a failed write makes it read the state again."""
        error = future.exception()
        if error is None:
            return
        log.error("steering %s: not written: %s", outcome.intent.label, error)
        self.steerer.forget(outcome.intent.id)
        self._dirty = True

    def _read_remote_rows(self, ids: list[str]) -> dict[str, UplinkQualityRecord]:
        with self._engine.connect() as conn:
            return quality_repo.quality_of(conn, uplink_ids=ids)

    async def _read_remote(self) -> None:
        """Replicas: the reports of the steered uplinks whose agents another replica
        follows, as it stored them."""
        followed = {u.id for u in self._inputs.uplinks.values() if u.router_id in self._links}
        wanted = sorted(
            {
                uplink_id
                for intent in self.steerer.intents()
                for uplink_id in intent.uplinks.values()
                if uplink_id not in followed
            }
        )
        rows = await self._store(self._read_remote_rows, wanted) if wanted else {}
        self._remote = {u: uplink_quality(r) for u, r in rows.items()}

    # --- writes ----------------------------------------------------------------------

    def _flush(self, *, with_history: bool = False, prune: bool = False) -> None:
        """Hand the store writer what is due: rows, events, the open history buckets
        (``with_history``), and the history's pruning (``prune``)."""
        rows, events = self.fold.drain(time.monotonic())
        buckets = self.fold.history.flush() if with_history else []
        cutoffs = history.cutoffs(time.time()) if prune else None
        if rows or events or buckets or cutoffs:
            self._writer.submit(_write_job(rows, buckets, events, cutoffs, self._events))


def _write_job(
    rows: list[UplinkQualityRecord],
    buckets: list[HistoryBucket],
    events: list[Event],
    cutoffs: dict[int, datetime] | None,
    log_: EventLog,
) -> Callable[[Connection], bool]:
    def job(conn: Connection) -> bool:
        if rows:
            quality_repo.upsert_quality(conn, rows=rows)
        if buckets:
            quality_repo.add_history(conn, buckets=buckets)
        if cutoffs:
            quality_repo.prune_history(conn, before_by_resolution=cutoffs)
        if events:
            log_.record(conn, events)
        return bool(events)

    return job
