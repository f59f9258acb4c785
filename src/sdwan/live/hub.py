"""Every router's gobgpd followed live from ONE thread: an asyncio event loop running,
per router, a WatchEvent stream (grpc.aio; reconnecting with backoff) and a ListPeer
poll for the prefix counters the stream does not carry. A fleet of a thousand
routers costs one thread and a few tasks each, not threads per router.

Everything observed goes to the LiveWriter. What the reconciler must know is told to
its ``WatchListener`` at once: a broken stream (gobgpd died), a re-opened one (gobgpd
is back, probably restarted empty), peers that appeared or went without a word from
us (drift, or our own change echoed), BGP not running (someone stopped it).

Counter polls are jittered and adaptive: every ``active`` seconds while sessions
change or counters move, every ``steady`` seconds once the router is quiet; each
router's polls are spread over the interval so a fleet never polls all at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from sdwan.domain.session import ESTABLISHED, SessionObservation
from sdwan.errors import SpeakerError, SpeakerRejected
from sdwan.gobgp.watch import END_OF_INIT, PeerWatch
from sdwan.live.writer import LiveWriter

log = logging.getLogger(__name__)
BACKOFF_INITIAL = 0.05  # a restarted gobgpd is found again within a second
BACKOFF_MAX = 5.0  # a gobgpd that stays away costs one attempt every 5 s


class WatchListener(Protocol):
    """The reconciler's side: called on the watch loop's thread, must not block."""

    def stream_broke(self, router_id: str, reason: str) -> None: ...
    def stream_connected(self, router_id: str, reconnect: bool) -> None: ...
    def peers_changed(self, router_id: str, addresses: set[str] | None) -> None:
        """Peers appeared on or went from gobgpd; None: read everything again."""


class _NoListener:
    def stream_broke(self, router_id: str, reason: str) -> None:
        pass

    def stream_connected(self, router_id: str, reconnect: bool) -> None:
        pass

    def peers_changed(self, router_id: str, addresses: set[str] | None) -> None:
        pass


@dataclass(frozen=True)
class PollIntervals:
    active: float = 5.0  # seconds between counter polls while the router is busy...
    steady: float = 30.0  # ...and once it is quiet
    active_for: float = 60.0  # busy: this long after a session change or moving counters
    spread: float = 0.5  # each wait is interval x uniform(1 - spread, 1 + spread)

    def wait(self, busy: bool) -> float:
        interval = self.active if busy else self.steady
        return interval * random.uniform(1 - self.spread, 1 + self.spread)


SourceFactory = Callable[[str], PeerWatch]


class WatchHub:
    def __init__(
        self,
        writer: LiveWriter,
        *,
        timeout: float = 5.0,
        intervals: PollIntervals | None = None,
        source_factory: SourceFactory | None = None,
    ) -> None:
        self.writer = writer
        self.intervals = intervals or PollIntervals()
        self.listener: WatchListener = _NoListener()
        self._source_factory: SourceFactory = source_factory or (
            lambda target: PeerWatch(target, timeout=timeout)
        )
        self._loop = asyncio.new_event_loop()
        self._links: dict[str, _Link] = {}  # touched on the loop only
        self._thread = threading.Thread(target=self._run, name="gobgpd-watch", daemon=True)

    # --- any thread ----------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._close_all(), self._loop)
        with contextlib.suppress(Exception):
            future.result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def follow(self, router_id: str, target: str) -> None:
        """Watch this router's gobgpd at ``target`` (again, if the target changed)."""
        self._soon(self._follow, router_id, target)

    def unfollow(self, router_id: str) -> None:
        self._soon(self._unfollow, router_id)

    def poll_soon(self, router_id: str) -> None:
        self._soon(self._poll_soon, router_id)

    def _soon(self, fn: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: we are stopping
            self._loop.call_soon_threadsafe(fn, *args)

    # --- the loop ------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def _follow(self, router_id: str, target: str) -> None:
        link = self._links.get(router_id)
        if link is not None and link.target == target:
            return
        if link is not None:
            self._spawn(link.stop())
        self._links[router_id] = _Link(self, router_id, target)

    def _unfollow(self, router_id: str) -> None:
        link = self._links.pop(router_id, None)
        if link is not None:
            self._spawn(link.stop())

    def _poll_soon(self, router_id: str) -> None:
        link = self._links.get(router_id)
        if link is not None:
            link.poll_now.set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._loop.create_task(coro)
        task.add_done_callback(_log_failure)

    async def _close_all(self) -> None:
        links, self._links = list(self._links.values()), {}
        await asyncio.gather(*(link.stop() for link in links), return_exceptions=True)

    def source(self, target: str) -> PeerWatch:
        return self._source_factory(target)

    @property
    def followed(self) -> int:
        return len(self._links)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("watch loop: %s", task.exception())


class _Link:
    """One router's stream and counter poll (on the loop)."""

    def __init__(self, hub: WatchHub, router_id: str, target: str) -> None:
        self.hub = hub
        self.router_id = router_id
        self.target = target
        self.source: PeerWatch | None = None
        self.connected = False
        self.states: dict[str, str] = {}  # address -> session state, as the stream told
        self.order = asyncio.Lock()  # a ListPeer snapshot never overtakes a newer event
        self.poll_now = asyncio.Event()
        self.busy_until = 0.0
        self.counters: dict[str, tuple[int | None, int | None]] = {}
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._stream()), loop.create_task(self._poll())]
        for task in self.tasks:
            task.add_done_callback(_log_failure)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def _busy(self) -> None:
        self.busy_until = asyncio.get_running_loop().time() + self.hub.intervals.active_for

    # --- the stream ----------------------------------------------------------------

    async def _stream(self) -> None:
        backoff = 0.0
        broken: bool | None = None  # None: never connected yet
        writer, listener = self.hub.writer, self.hub.listener
        while True:
            source = self.hub.source(self.target)
            self.source = source
            try:
                await self._follow(source, reconnect=broken is True)
            except SpeakerError as exc:
                if self.connected or broken is None:
                    self.connected = False
                    self.states.clear()
                    writer.gobgpd_unreachable(self.router_id, exc.message)
                    listener.stream_broke(self.router_id, exc.message)
                    backoff = 0.0
                broken = True
                log.debug("router %s: %s", self.router_id, exc.message)
            finally:
                self.connected = False
                self.source = None
                await source.close()
            backoff = min(max(backoff * 2, BACKOFF_INITIAL), BACKOFF_MAX)
            await asyncio.sleep(backoff)

    async def _follow(self, source: PeerWatch, *, reconnect: bool) -> None:
        initial: list[SessionObservation] = []
        async for item in source.events():
            if item == END_OF_INIT:
                async with self.order:
                    self.hub.writer.observe(self.router_id, initial, complete=True)
                    self.states = {o.address: o.state for o in initial}
                self.connected = True
                self._busy()
                self.poll_now.set()  # the counters, at once
                self.hub.listener.stream_connected(self.router_id, reconnect)
                continue
            assert isinstance(item, SessionObservation)
            if not self.connected:
                initial.append(item)
                continue
            await self._event(source, item)

    async def _event(self, source: PeerWatch, obs: SessionObservation) -> None:
        before = self.states.get(obs.address)
        new_peer = before is None and not obs.removed
        if before == ESTABLISHED and obs.state != ESTABLISHED and not obs.removed:
            try:  # the NOTIFICATION counters tell why it went down
                full = (await source.sessions(obs.address)).get(obs.address)
            except SpeakerError:
                full = None
            if full is not None and full.state == obs.state:
                obs = full
        async with self.order:
            self.hub.writer.observe(self.router_id, [obs])
            if obs.removed:
                self.states.pop(obs.address, None)
            else:
                self.states[obs.address] = obs.state
        self._busy()
        if obs.removed or new_peer:
            self.hub.listener.peers_changed(self.router_id, {obs.address})

    # --- the counters --------------------------------------------------------------

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            wait = self.hub.intervals.wait(busy=loop.time() < self.busy_until)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.poll_now.wait(), wait)
            self.poll_now.clear()
            source = self.source
            if source is None or not self.connected:
                continue
            try:
                async with self.order:
                    sessions = await source.sessions()
                    self.hub.writer.observe(self.router_id, list(sessions.values()), complete=True)
                    unexplained = set(sessions) ^ set(self.states)
            except SpeakerRejected:  # gobgpd answers but runs no BGP: stopped by hand?
                self.hub.listener.peers_changed(self.router_id, None)
                continue
            except SpeakerError:
                continue  # the stream notices too, and reports it
            if unexplained:  # peers that came or went without a stream event
                self.hub.listener.peers_changed(self.router_id, unexplained)
            counters = {a: (o.received, o.accepted) for a, o in sessions.items()}
            if counters != self.counters:
                self.counters = counters
                self._busy()
