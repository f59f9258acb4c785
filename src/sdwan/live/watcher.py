"""One gobgpd's sessions, followed live: a WatchEvent stream (reconnecting with
backoff) plus a plain ListPeer every few seconds for the prefix counters, which the
stream does not carry. Everything observed goes to the LiveWriter; a broken or
re-opened stream is told to the router's worker at once (a faster signal than its
1 s GetBgp probe that gobgpd died or restarted)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from sdwan.domain.session import ESTABLISHED, SessionObservation
from sdwan.errors import SpeakerError
from sdwan.gobgp.watch import END_OF_INIT, PeerWatch
from sdwan.live.writer import LiveWriter

log = logging.getLogger(__name__)
POLL_INTERVAL = 5.0  # seconds between ListPeer reads of the prefix counters
BACKOFF_INITIAL = 0.05
BACKOFF_MAX = 1.0


class WatchSource(Protocol):
    def events(self) -> object: ...  # Iterator[SessionObservation | str]
    def sessions(self, address: str = "") -> dict[str, SessionObservation]: ...
    def cancel(self) -> None: ...
    def close(self) -> None: ...


WatchFactory = Callable[[str], WatchSource]


class SessionWatcher:
    def __init__(
        self,
        router_id: str,
        target: str,
        *,
        writer: LiveWriter,
        on_break: Callable[[str], None],
        on_connected: Callable[[bool], None],
        on_peer_set_changed: Callable[[str], None],
        watch_factory: WatchFactory | None = None,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self.router_id = router_id
        self.target = target
        self._writer = writer
        self._on_break = on_break
        self._on_connected = on_connected
        self._on_peer_set_changed = on_peer_set_changed
        self._factory: WatchFactory = watch_factory or (lambda t: PeerWatch(t))
        self._poll_interval = poll_interval
        self._stopping = threading.Event()
        self._poll_now = threading.Event()
        self._order = threading.Lock()  # a ListPeer snapshot never overtakes a newer event
        self._watch: WatchSource | None = None
        self._connected = False
        self._states: dict[str, str] = {}
        self._stream = threading.Thread(
            target=self._run, name=f"watch-{router_id[:8]}", daemon=True
        )
        self._poller = threading.Thread(
            target=self._poll, name=f"poll-{router_id[:8]}", daemon=True
        )

    def start(self) -> None:
        self._stream.start()
        self._poller.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._poll_now.set()
        watch = self._watch
        if watch is not None:
            watch.cancel()
        for thread in (self._stream, self._poller):
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(timeout)

    # --- the stream ----------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.0
        broken: bool | None = None  # None: never connected yet
        while not self._stopping.is_set():
            watch = self._factory(self.target)
            self._watch = watch
            try:
                self._follow(watch, reconnect=broken is True)
            except SpeakerError as exc:
                if self._stopping.is_set():
                    break
                if self._connected or broken is None:
                    self._connected = False
                    self._states.clear()
                    self._writer.gobgpd_unreachable(self.router_id, exc.message)
                    self._on_break(exc.message)
                    backoff = 0.0
                broken = True
                log.debug("router %s: %s", self.router_id, exc.message)
            finally:
                self._connected = False
                watch.close()
            backoff = min(max(backoff * 2, BACKOFF_INITIAL), BACKOFF_MAX)
            self._stopping.wait(backoff)

    def _follow(self, watch: WatchSource, *, reconnect: bool) -> None:
        initial: list[SessionObservation] = []
        events = watch.events()
        for item in events:  # type: ignore[attr-defined]
            if self._stopping.is_set():
                return
            if item == END_OF_INIT:
                with self._order:
                    self._writer.observe(self.router_id, initial, complete=True)
                self._states = {o.address: o.state for o in initial}
                self._connected = True
                self._poll_now.set()  # the counters, at once
                self._on_connected(reconnect)
                continue
            assert isinstance(item, SessionObservation)
            if not self._connected:
                initial.append(item)
                continue
            self._event(watch, item)

    def _event(self, watch: WatchSource, obs: SessionObservation) -> None:
        before = self._states.get(obs.address)
        new_peer = before is None and not obs.removed
        if before == ESTABLISHED and obs.state != ESTABLISHED and not obs.removed:
            try:  # the NOTIFICATION counters tell why it went down
                full = watch.sessions(obs.address).get(obs.address)
            except SpeakerError:
                full = None
            if full is not None and full.state == obs.state:
                obs = full
        with self._order:
            self._writer.observe(self.router_id, [obs])
        if obs.removed:
            self._states.pop(obs.address, None)
        else:
            self._states[obs.address] = obs.state
        if obs.removed or new_peer:
            self._on_peer_set_changed(obs.address)

    # --- the counters --------------------------------------------------------------

    def _poll(self) -> None:
        while not self._stopping.is_set():
            self._poll_now.wait(self._poll_interval)
            self._poll_now.clear()
            watch = self._watch
            if self._stopping.is_set() or watch is None or not self._connected:
                continue
            try:
                with self._order:
                    sessions = watch.sessions()
                    self._writer.observe(self.router_id, list(sessions.values()), complete=True)
            except SpeakerError:
                continue  # the stream notices too, and reports it
