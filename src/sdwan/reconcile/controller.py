"""The controller: a fixed pool of workers fed by one coalescing queue of router keys,
each running the reconciler (reconciler.py) on the key it took (as controller-runtime
runs MaxConcurrentReconciles over a rate-limited workqueue).

Threads and memory follow the configuration, not the fleet: ``settings.workers``
pool threads whatever the number of routers; watch streams and counter polls run on
the one watch loop (live/hub.py). A key is queued when:
- the API changed the router or some of its neighbors (targeted to their addresses);
- its watch stream broke or re-opened, or peers came or went on gobgpd unannounced;
- its periodic full read-back is due (every ``reconcile_interval``, jittered so a
  fleet's read-backs are spread over the interval, not taken all at once);
- its retry is due after a failure (the queue's per-router exponential backoff: an
  unreachable router waits in the timer heap and costs the others nothing);
- a probe is due (only where no watch stream tells us, e.g. fake speakers in tests);
- a session came up: its prefix counters are read ``counters_delay`` later (the
  stream does not carry them; a full read-back reads them too). Sessions that only
  move between the states that are not Established have no counters worth a read.

With several replicas (PostgreSQL) a replica queues and handles only the routers it
holds a lease on (reconcile/ownership.py): ``acquired`` starts with a full pass,
``lost`` drops the key, and every pass runs under its lease's fence
(reconcile/fencing.py). With one process (``SoleOwner``) it owns them all.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from sdwan import logs
from sdwan.config import Settings
from sdwan.gobgp.client import GobgpClient
from sdwan.live.hub import WatchHub
from sdwan.reconcile.fencing import LeaseLost
from sdwan.reconcile.live_hooks import LiveHooks
from sdwan.reconcile.ownership import Ownership, SoleOwner
from sdwan.reconcile.queue import Request, WorkQueue
from sdwan.reconcile.reconciler import Context, Outcome, Result, SpeakerFactory, reconcile
from sdwan.reconcile.router_state import RouterState
from sdwan.secretbox import SecretBox
from sdwan.store import repo
from sdwan.store.batch_writer import BatchWriter
from sdwan.threadnames import name_this_thread

log = logging.getLogger(__name__)


class Controller:
    """Implements the service layer's ChangeNotifier and the watch hub's listener."""

    def __init__(
        self,
        *,
        engine: Engine,
        writer: BatchWriter,
        secrets: SecretBox,
        settings: Settings,
        speaker_factory: SpeakerFactory | None = None,
        hooks: LiveHooks | None = None,
        hub: WatchHub | None = None,
        ownership: Ownership | None = None,
        default_ca: str | None = None,
    ) -> None:
        self._settings = settings
        self._ownership: Ownership = ownership or SoleOwner()
        self._hooks = hooks
        self._hub = hub
        self._queue = WorkQueue(
            backoff_initial=settings.backoff_initial, backoff_max=settings.backoff_max
        )
        self._ctx = Context(
            engine=engine,
            writer=writer,
            secrets=secrets,
            settings=settings,
            speaker_factory=speaker_factory
            or (lambda endpoint: GobgpClient(endpoint, timeout=settings.grpc_timeout)),
            hooks=hooks,
            follow=hub.follow if hub is not None else (lambda _router, _endpoint: None),
            default_ca=default_ca,
            retry_in=self._queue.next_backoff,
        )
        self._states: dict[str, RouterState] = {}
        self._busy: set[str] = set()  # keys a worker is running a pass of
        self._lock = threading.Lock()
        self._running = False
        self._threads: list[threading.Thread] = []
        if hub is not None:
            hub.listener = self
        if hooks is not None:  # read when scraped
            for name, help_text, read in (
                (
                    "sdwan_reconcile_queue_depth",
                    "Routers due, waiting for a worker.",
                    self.queue_depth,
                ),
                (
                    "sdwan_reconcile_queue_scheduled",
                    "Passes scheduled for later (read-backs, retries, counter reads).",
                    self.queue_scheduled,
                ),
                ("sdwan_reconcile_workers_busy", "Workers running a pass.", self.busy_workers),
            ):
                hooks.metrics.reading(name, help_text, read)

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        with self._ctx.engine.connect() as conn:
            router_ids = repo.all_router_ids(conn)
        with self._lock:
            self._running = True
        self._threads = [
            threading.Thread(target=self._work, name=f"reconcile-{i}", daemon=True)
            for i in range(self._settings.workers)
        ]
        for thread in self._threads:
            thread.start()
        for router_id in router_ids:
            self.router_changed(router_id)
        log.info("controller started: %d routers, %d workers", len(router_ids), len(self._threads))

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._running = False
            states = list(self._states.values())
            self._states.clear()
        self._queue.shutdown()
        for thread in self._threads:
            thread.join(timeout)
        for state in states:
            state.close()

    # --- ChangeNotifier (API threads) ----------------------------------------------

    def router_changed(self, router_id: str, addresses: set[str] | None = None) -> None:
        """A router or some of its neighbors (by address) changed in the store."""
        if not self._ownership.owns(router_id):
            return  # another replica drives it (the change feed told it too)
        state, new = self._state(router_id)
        if state is None:
            return
        # worth trying at once, whatever the backoff; a router seen for the first time
        # starts with a full pass
        self._queue.add_now(router_id, Request.everything() if new else Request.of(addresses))

    # --- OwnershipListener (the lease thread) ----------------------------------------

    def acquired(self, router_id: str) -> None:
        """This replica now drives the router: a full pass, which re-reads gobgpd and
        changes nothing that matches (a takeover resets no session)."""
        state, _new = self._state(router_id)
        if state is not None:
            self._queue.add(router_id, Request.everything())

    def lost(self, router_id: str) -> None:
        """Another replica drives it now (or our lease lapsed): drop the key."""
        self._forget(router_id)

    def busy(self, router_id: str) -> bool:
        with self._lock:
            return router_id in self._busy

    def resync(self) -> None:
        """Changes may have gone unseen (the change feed reconnected): a full pass of
        every router this replica drives."""
        with self._lock:
            router_ids = list(self._states)
        for router_id in router_ids:
            self._queue.add(router_id, Request.everything())

    def _state(self, router_id: str) -> tuple[RouterState | None, bool]:
        with self._lock:
            if not self._running:
                return None, False
            state = self._states.get(router_id)
            if state is not None:
                return state, False
            state = self._states[router_id] = RouterState(router_id)
            return state, True

    # --- WatchListener (the watch loop's thread) -----------------------------------

    def stream_broke(self, router_id: str, reason: str) -> None:
        with self._lock:
            state = self._states.get(router_id)
        if state is not None:
            state.global_checked = False
        self._queue.add(router_id, Request.everything())

    def stream_connected(self, router_id: str, reconnect: bool) -> None:
        if not reconnect:
            return
        with self._lock:
            state = self._states.get(router_id)
        if state is None:
            return
        state.restarted = True  # gobgpd is back: a new instance, probably empty
        state.global_checked = False
        if self._hooks is not None:
            self._hooks.metrics.inc("sdwan_watch_reconnects_total", router=state.name)
        self._queue.add_now(router_id, Request.everything())

    def peers_changed(self, router_id: str, addresses: set[str] | None) -> None:
        """Peers came or went on gobgpd: our own echo, or drift to look at."""
        with self._lock:
            state = self._states.get(router_id)
        if state is None:
            return
        if addresses is None:
            state.global_checked = False
            self._queue.add(router_id, Request.everything())
            return
        unexpected = {a for a in addresses if not state.expected_echo(a)}
        if unexpected:
            self._queue.add(router_id, Request.of(unexpected))

    def sessions_changed(self, router_id: str) -> None:
        """Read the router's counters a little later: one read for a burst of changes."""
        delay = self._settings.counters_delay
        self._queue.add_after(
            router_id, Request(counters=True), delay, slot="counters", keep_earlier=True
        )

    # --- the pool --------------------------------------------------------------------

    def _work(self) -> None:
        name_this_thread()
        while True:
            item = self._queue.get()
            if item is None:
                return
            router_id, request = item
            fence = self._ownership.fence(router_id)
            ours = fence is None or fence.holds()
            with self._lock:
                state = self._states.get(router_id) if ours else None
                if state is not None:
                    self._busy.add(router_id)
            if state is None:  # stopped, forgotten, or no longer ours
                self._queue.done(router_id)
                continue
            ctx = self._ctx if fence is None else fence.context(self._ctx)
            context = logs.bind(router_id=router_id)  # and its name, once the pass read it
            try:
                result: Result | None = reconcile(ctx, state, request)
            except LeaseLost as exc:
                log.info("router %s: %s: the pass stopped, applying nothing more", state.name, exc)
                result = None
            except Exception:
                log.exception("router %s: reconcile failed", state.name)
                result = Result(Outcome.FAILED)
            finally:
                logs.unbind(context)
                self._queue.done(router_id)
                self._finished(router_id, state)
            if result is not None:
                self._schedule(router_id, result)

    def _finished(self, router_id: str, state: RouterState) -> None:
        """A pass ended; if its router was dropped meanwhile, close what it opened."""
        with self._lock:
            self._busy.discard(router_id)
            dropped = self._states.get(router_id) is not state
        if dropped:
            state.close()
            if self._hub is not None:
                self._hub.unfollow(router_id)  # the pass may have followed it again

    def _schedule(self, router_id: str, result: Result) -> None:
        """What comes after a pass: a failed one is retried after the router's backoff
        (the queue counts its failures), a converged one resets that count."""
        if result.outcome is Outcome.GONE:
            self._forget(router_id)
            return
        if result.outcome is Outcome.FAILED:
            self._queue.cancel(router_id, "probe")
            self._queue.add_rate_limited(router_id, Request.everything())
            return
        if result.outcome is Outcome.CONVERGED:
            self._queue.forget(router_id)
        if result.requeue_after is not None:  # the next full read-back
            self._queue.add_after(
                router_id, Request.everything(), result.requeue_after, slot="resync"
            )
        if self._hub is None:  # no watch stream: probe gobgpd now and then instead
            probe = Request(probe=True)
            self._queue.add_after(router_id, probe, self._settings.probe_interval, slot="probe")

    def _forget(self, router_id: str) -> None:
        with self._lock:
            state = self._states.pop(router_id, None)
            busy = router_id in self._busy
        self._queue.drop(router_id)
        if state is not None and not busy:  # else the worker closes it (_finished)
            state.close()
        if self._hub is not None:
            self._hub.unfollow(router_id)
        if self._hooks is not None:
            self._hooks.writer.forget(router_id)

    # --- introspection ---------------------------------------------------------------

    @property
    def routers(self) -> int:
        with self._lock:
            return len(self._states)

    def queue_depth(self) -> int:
        """Routers whose pass is due and waits for a free worker."""
        return self._queue.depth()

    def queue_scheduled(self) -> int:
        """Passes scheduled for later (read-backs, retries, counter reads)."""
        return self._queue.scheduled()

    def busy_workers(self) -> int:
        with self._lock:
            return len(self._busy)
