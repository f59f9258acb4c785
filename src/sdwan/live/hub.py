"""Every router's gobgpd followed live from ONE thread: an asyncio event loop running
a WatchEvent stream per router (grpc.aio; reconnecting with backoff). A fleet of a
thousand routers costs one thread and a task each, not threads per router.

Everything the streams tell goes to the LiveWriter. What the reconciler must know is
told to its ``WatchListener`` at once: a broken stream (gobgpd died), a re-opened one
(gobgpd is back, probably restarted empty), peers that appeared or went (our own
change echoed, or drift), and that a session came up (its prefix counters, which the
stream does not carry, are then read by a reconcile worker with one ListPeer)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from sdwan import logs
from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.domain.session import ESTABLISHED, SessionObservation
from sdwan.errors import SpeakerError
from sdwan.gobgp.watch import END_OF_INIT, PeerWatch
from sdwan.live.writer import LiveWriter
from sdwan.threadnames import name_this_thread

log = logging.getLogger(__name__)
BACKOFF_INITIAL = 0.05  # a restarted gobgpd is found again within a second
BACKOFF_MAX = 5.0  # a gobgpd that stays away costs one attempt every 5 s


class WatchListener(Protocol):
    """The reconciler's side: called on the watch loop's thread, must not block."""

    def stream_broke(self, router_id: str, reason: str) -> None: ...
    def stream_connected(self, router_id: str, reconnect: bool) -> None: ...
    def peers_changed(self, router_id: str, addresses: set[str] | None) -> None:
        """Peers appeared on or went from gobgpd; None: read everything again."""

    def sessions_changed(self, router_id: str) -> None:
        """A session came up (or was up when the stream began): its prefix counters
        are worth reading soon."""


class _NoListener:
    def stream_broke(self, router_id: str, reason: str) -> None:
        pass

    def stream_connected(self, router_id: str, reconnect: bool) -> None:
        pass

    def peers_changed(self, router_id: str, addresses: set[str] | None) -> None:
        pass

    def sessions_changed(self, router_id: str) -> None:
        pass


SourceFactory = Callable[[GobgpEndpoint], PeerWatch]


class WatchHub:
    def __init__(
        self,
        writer: LiveWriter,
        *,
        timeout: float = 5.0,
        source_factory: SourceFactory | None = None,
    ) -> None:
        self.writer = writer
        self.listener: WatchListener = _NoListener()
        self._source_factory: SourceFactory = source_factory or (
            lambda endpoint: PeerWatch(endpoint, timeout=timeout)
        )
        self._loop: asyncio.AbstractEventLoop | None = None  # made by start(), closed by stop()
        self._links: dict[str, _Link] = {}  # touched on the loop only
        self._thread = threading.Thread(target=self._run, name="gobgpd-watch", daemon=True)

    # --- any thread ----------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        loop = self._loop
        if loop is None or not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._close_all(), loop)
        with contextlib.suppress(Exception):
            future.result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout)

    def follow(self, router_id: str, endpoint: GobgpEndpoint) -> None:
        """Watch this router's gobgpd at ``endpoint`` (again, if it changed)."""
        self._soon(self._follow, router_id, endpoint)

    def unfollow(self, router_id: str) -> None:
        self._soon(self._unfollow, router_id)

    def _soon(self, fn: Callable[..., None], *args: Any) -> None:
        if self._loop is None:
            raise RuntimeError("the watch hub is not started")
        with contextlib.suppress(RuntimeError):  # the loop is closed: we are stopping
            self._loop.call_soon_threadsafe(fn, *args)

    # --- the loop ------------------------------------------------------------------

    def _run(self) -> None:
        name_this_thread()
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _follow(self, router_id: str, endpoint: GobgpEndpoint) -> None:
        link = self._links.get(router_id)
        if link is not None and link.endpoint == endpoint:
            return
        if link is not None:
            self._spawn(link.stop())
        self._links[router_id] = _Link(self, router_id, endpoint)

    def _unfollow(self, router_id: str) -> None:
        link = self._links.pop(router_id, None)
        if link is not None:
            self._spawn(link.stop())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        task.add_done_callback(_log_failure)

    async def _close_all(self) -> None:
        links, self._links = list(self._links.values()), {}
        await asyncio.gather(*(link.stop() for link in links), return_exceptions=True)

    def source(self, endpoint: GobgpEndpoint) -> PeerWatch:
        return self._source_factory(endpoint)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("watch loop: %s", task.exception())


class _Link:
    """One router's stream (on the loop)."""

    def __init__(self, hub: WatchHub, router_id: str, endpoint: GobgpEndpoint) -> None:
        self.hub = hub
        self.router_id = router_id
        self.endpoint = endpoint
        self.connected = False
        self.states: dict[str, str] = {}  # address -> session state, as the stream told
        self.task = asyncio.get_running_loop().create_task(self._stream())
        self.task.add_done_callback(_log_failure)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def _stream(self) -> None:
        logs.bind(router_id=self.router_id)  # this task's own context: its lines only
        backoff = 0.0
        broken: bool | None = None  # None: never connected yet
        writer, listener = self.hub.writer, self.hub.listener
        while True:
            source = self.hub.source(self.endpoint)
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
                await source.close()
            backoff = min(max(backoff * 2, BACKOFF_INITIAL), BACKOFF_MAX)
            await asyncio.sleep(backoff)

    async def _follow(self, source: PeerWatch, *, reconnect: bool) -> None:
        initial: list[SessionObservation] = []
        async for item in source.events():
            if item == END_OF_INIT:
                self.hub.writer.observe(self.router_id, initial, complete=True)
                self.states = {o.address: o.state for o in initial}
                self.connected = True
                self.hub.listener.stream_connected(self.router_id, reconnect)
                if ESTABLISHED in self.states.values():
                    self.hub.listener.sessions_changed(self.router_id)  # the counters, soon
                continue
            assert isinstance(item, SessionObservation)
            if not self.connected:
                initial.append(item)
                continue
            await self._event(source, item)

    async def _event(self, source: PeerWatch, obs: SessionObservation) -> None:
        before = self.states.get(obs.address)
        new_peer = before is None and not obs.removed
        went_down = before == ESTABLISHED and obs.state != ESTABLISHED
        came_up = before != ESTABLISHED and obs.state == ESTABLISHED
        if (went_down or came_up) and not obs.removed:
            # that one peer in full: going down, its NOTIFICATION counters tell why;
            # coming up, its uptime and prefix counters are there from the start
            try:
                full = (await source.sessions(obs.address)).get(obs.address)
            except SpeakerError:
                full = None
            if full is not None and full.state == obs.state:
                obs = full
        self.hub.writer.observe(self.router_id, [obs])
        if obs.removed:
            self.states.pop(obs.address, None)
        else:
            self.states[obs.address] = obs.state
        if obs.removed or new_peer:
            self.hub.listener.peers_changed(self.router_id, {obs.address})
        if came_up:  # prefixes arrive once a session is up: their counters, soon (a
            # session that is not up has none; one going down was read in full above)
            self.hub.listener.sessions_changed(self.router_id)
