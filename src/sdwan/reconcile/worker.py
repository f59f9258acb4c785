"""The per-router loop: wakes on a change, on a probe that finds gobgpd restarted or
back, and periodically; runs one pass; writes status; backs off while unreachable."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from sdwan.config import Settings
from sdwan.domain.status import Status
from sdwan.errors import SpeakerError, SpeakerRejected, SpeakerUnreachable
from sdwan.events.model import Event
from sdwan.gobgp.client import BgpSpeaker
from sdwan.live.watcher import SessionWatcher
from sdwan.reconcile import report
from sdwan.reconcile.apply import PassResult, apply_global, apply_peers
from sdwan.reconcile.desired import global_of, peer_of
from sdwan.reconcile.live_hooks import LiveHooks
from sdwan.reconcile.plan import PeerStep, UpdatePeer, global_differs, step_address
from sdwan.reconcile.policy_stage import run_announcement_stage, run_policy_stage
from sdwan.secretbox import SecretBox
from sdwan.store import repo
from sdwan.store.records import NeighborRecord, RouterRecord

log = logging.getLogger(__name__)
SpeakerFactory = Callable[[str], BgpSpeaker]
FULL_SCAN_THRESHOLD = 64  # more dirty neighbors than this: one full pass instead
OWN_CHANGE_WINDOW = 5.0  # seconds a peer change of ours is expected on the watch stream
_USER_CHANGES = {Status.PENDING_CREATE, Status.PENDING_UPDATE, Status.PENDING_DELETE}


@dataclass
class _Pending:
    full: bool = False
    addresses: set[str] | None = None


class RouterWorker:
    def __init__(
        self,
        router_id: str,
        *,
        engine: Engine,
        secrets: SecretBox,
        settings: Settings,
        speaker_factory: SpeakerFactory,
        on_exit: Callable[[str], None] = lambda _id: None,
        hooks: LiveHooks | None = None,
    ) -> None:
        self.router_id = router_id
        self._hooks = hooks
        self._watcher: SessionWatcher | None = None
        self._restarted = False  # a new gobgpd instance answers (watch re-opened, empty)
        self._last_drift: dict[str, str] = {}
        # peers this worker itself just added or deleted: their watch events need no pass
        self._own_changes: dict[str, float] = {}
        self._router_name = router_id
        self._engine = engine
        self._secrets = secrets
        self._settings = settings
        self._speaker_factory = speaker_factory
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pending = _Pending(full=True)  # first pass reads everything
        self._speaker: BgpSpeaker | None = None
        self._speaker_target = ""
        self._reachable: bool | None = None
        self._backoff = 0.0
        self._thread = threading.Thread(
            target=self._run, name=f"reconcile-{router_id[:8]}", daemon=True
        )

    # --- control -------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def request(self, addresses: set[str] | None = None) -> None:
        """Ask for a pass over these neighbor addresses (None: everything)."""
        with self._lock:
            if addresses is None or self._pending.full:
                self._pending = _Pending(full=True)
            else:
                merged = (self._pending.addresses or set()) | addresses
                self._pending = (
                    _Pending(full=True)
                    if len(merged) > FULL_SCAN_THRESHOLD
                    else _Pending(addresses=merged)
                )
            self._backoff = 0.0  # a user change is worth trying at once
        self._wake.set()

    def _take_pending(self) -> _Pending | None:
        with self._lock:
            pending = self._pending
            if not pending.full and not pending.addresses:
                return None
            self._pending = _Pending()
            self._wake.clear()
            return pending

    # --- loop ----------------------------------------------------------------------

    def _run(self) -> None:
        next_full = time.monotonic() + self._settings.reconcile_interval
        try:
            while not self._stopping.is_set():
                pending = self._take_pending()
                if pending is None and time.monotonic() >= next_full:
                    pending = _Pending(full=True)
                if pending is None:
                    pending = self._probe()
                if pending is not None:
                    finished = self._pass(pending)
                    if finished:
                        return
                    if pending.full and self._reachable:
                        next_full = time.monotonic() + self._settings.reconcile_interval
                wait = self._backoff if self._backoff else self._settings.probe_interval
                self._wake.wait(wait)
        finally:
            if self._watcher is not None:
                self._watcher.stop()
            if self._speaker is not None:
                self._speaker.close()
            self._on_exit(self.router_id)

    def _probe(self) -> _Pending | None:
        """Cheap GetBgp: a gobgpd that came back, restarted empty or lost its global
        config needs a full pass; a healthy one needs nothing."""
        router = self._load_router()
        if router is None:
            return _Pending(full=True)
        try:
            actual = self._speaker_for(router).get_global()
        except SpeakerUnreachable as exc:
            self._mark_unreachable(router, exc)
            return None
        except SpeakerError:
            return _Pending(full=True)
        if not self._reachable or actual is None or global_differs(global_of(router), actual):
            if self._reachable and actual is None:
                self._restarted = True
            return _Pending(full=True)
        return None

    def _load_router(self) -> RouterRecord | None:
        with self._engine.connect() as conn:
            return repo.get_router(conn, key=self.router_id)

    def _speaker_for(self, router: RouterRecord) -> BgpSpeaker:
        if self._speaker is None or self._speaker_target != router.api_address:
            if self._speaker is not None:
                self._speaker.close()
            self._speaker = self._speaker_factory(router.api_address)
            if self._speaker_target != router.api_address:
                self._watch(router)
            self._speaker_target = router.api_address
        return self._speaker

    def _watch(self, router: RouterRecord) -> None:
        """(Re)start the WatchEvent stream of this router's gobgpd."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        hooks = self._hooks
        if hooks is None or hooks.watch_factory is None:
            return
        self._watcher = SessionWatcher(
            self.router_id,
            router.api_address,
            writer=hooks.writer,
            on_break=lambda _reason: self.request(None),
            on_connected=self._stream_connected,
            # a peer appeared or went: a targeted pass tells ours from a stray
            on_peer_set_changed=self._peer_set_changed,
            watch_factory=hooks.watch_factory,
        )
        self._watcher.start()

    def _peer_set_changed(self, address: str) -> None:
        """A peer appeared on or went from gobgpd: ours (just applied) or drift."""
        with self._lock:
            expected = self._own_changes.pop(address, 0.0)
        if expected < time.monotonic():
            self.request({address})

    def _note_own_changes(self, steps: list[PeerStep]) -> None:
        until = time.monotonic() + OWN_CHANGE_WINDOW
        with self._lock:
            now = time.monotonic()
            self._own_changes = {a: t for a, t in self._own_changes.items() if t > now}
            for step in steps:
                if not isinstance(step, UpdatePeer):
                    self._own_changes[step_address(step)] = until

    def _stream_connected(self, reconnect: bool) -> None:
        if reconnect:
            self._restarted = True  # gobgpd is back: a new instance, probably empty
            if self._hooks is not None:
                self._hooks.metrics.inc("sdwan_watch_reconnects_total", router=self._router_name)
            self.request(None)

    def _mark_unreachable(self, router: RouterRecord, exc: SpeakerError) -> None:
        if self._reachable is not False and self._hooks is not None:
            self._hooks.writer.reachability(
                router.id, reachable=False, error=exc.message, restarted=False
            )
        self._reachable = False
        if self._speaker is not None:  # a fresh channel reconnects at once when gobgpd is back
            self._speaker.close()
            self._speaker = None
        self._fail(router, exc)

    def _fail(self, router: RouterRecord, exc: SpeakerError) -> None:
        """Router ERROR with the reason; retry with backoff, and then read everything."""
        self._backoff = min(
            max(self._backoff * 2, self._settings.backoff_initial), self._settings.backoff_max
        )
        with self._lock:
            self._pending = _Pending(full=True)
        self._wake.clear()
        detail = f"{exc.message}; retrying in {self._backoff:g}s"
        if self._hooks is not None:
            self._hooks.metrics.inc("sdwan_reconcile_errors_total", router=router.name)
        if router.status != Status.ERROR or router.status_detail != detail:
            with self._engine.begin() as conn:
                repo.set_router_status(
                    conn, router_id=router.id, version=None, status=Status.ERROR, detail=detail
                )
                if self._hooks is not None and router.status != Status.ERROR:
                    event = report.router_status_event(router, Status.ERROR, detail)
                    self._hooks.events.record(conn, [event])
            if self._hooks is not None and router.status != Status.ERROR:
                self._hooks.events.notify()
        level = logging.WARNING if router.status != Status.ERROR else logging.DEBUG
        log.log(level, "router %s: %s", router.name, detail)

    # --- one pass ------------------------------------------------------------------

    def _pass(self, pending: _Pending) -> bool:
        """Returns True when the router is gone and the worker should end."""
        router = self._load_router()
        if router is None:
            return True
        self._router_name = router.name
        scope = None if pending.full else pending.addresses
        started = time.perf_counter()
        repair = router.drift_mode != "report"
        try:
            speaker = self._speaker_for(router)
            if router.status == Status.PENDING_DELETE:
                self._delete_router(speaker, router)
                return True
            result = apply_global(
                speaker,
                global_of(router),
                user_change=router.status in _USER_CHANGES,
                repair=repair,
            )
            neighbors = self._load_neighbors(router, scope)
            desired = {
                n.address: peer_of(n, self._secrets)
                for n in neighbors
                if n.status != Status.PENDING_DELETE
            }
            managed = {n.address for n in neighbors if n.status in _USER_CHANGES | {Status.ERROR}}
            apply_peers(
                speaker,
                desired,
                scope=scope,
                result=result,
                managed=None if result.started else managed,
                before_apply=self._note_own_changes,  # their echo on the watch is ours
            )
            if scope is None:  # policy and announcements: on full passes
                enabled = [a for a, p in desired.items() if p.enabled]
                run_policy_stage(
                    self._engine,
                    router,
                    speaker,
                    peers=enabled,
                    repair=repair,
                    drift=result.drift,
                )
                run_announcement_stage(
                    self._engine, router, speaker, repair=repair, drift=result.drift
                )
        except SpeakerUnreachable as exc:
            self._mark_unreachable(router, exc)
            return False

        except SpeakerRejected as exc:
            self._fail(router, exc)
            return False
        if self._hooks is not None and (not self._reachable or self._restarted):
            self._hooks.writer.reachability(
                router.id, reachable=True, error="", restarted=self._restarted
            )
        self._reachable = True
        self._restarted = False
        self._backoff = 0.0
        self._write_status(router, neighbors, result, full=scope is None)
        if self._hooks is not None:
            kind = "full" if scope is None else "targeted"
            self._hooks.metrics.inc("sdwan_reconcile_runs_total", router=router.name, kind=kind)
            self._hooks.metrics.observe(
                "sdwan_reconcile_duration_seconds",
                time.perf_counter() - started,
                router=router.name,
            )
        return False

    def _load_neighbors(self, router: RouterRecord, scope: set[str] | None) -> list[NeighborRecord]:
        with self._engine.connect() as conn:
            return repo.neighbors_of(conn, router_id=router.id, addresses=scope)

    def _delete_router(self, speaker: BgpSpeaker, router: RouterRecord) -> None:
        if speaker.get_global() is not None:
            speaker.stop_bgp()
        with self._engine.begin() as conn:
            repo.delete_router_row(conn, router_id=router.id)
        log.info("router %s deleted; its gobgpd is left stopped", router.name)

    def _write_status(
        self,
        router: RouterRecord,
        neighbors: list[NeighborRecord],
        result: PassResult,
        *,
        full: bool = True,
    ) -> None:
        drift_events = self._note_drift(router, neighbors, result, full=full)
        updates: list[tuple[str, int, str, str]] = []
        deleted: list[tuple[str, int]] = []
        for n in neighbors:
            error = result.peer_errors.get(n.address)
            if n.status == Status.PENDING_DELETE:
                if error is None:
                    deleted.append((n.id, n.version))
                elif n.status_detail != error:
                    updates.append((n.id, n.version, Status.PENDING_DELETE, error))
                continue
            if error is not None:
                status, detail = Status.ERROR, error
            elif n.address in result.peer_notes:
                status, detail = Status.ACTIVE, result.peer_notes[n.address]
            elif n.status == Status.ACTIVE:
                continue  # nothing new to say
            else:
                status, detail = Status.ACTIVE, ""
            if (status, detail) != (n.status, n.status_detail):
                updates.append((n.id, n.version, status, detail))
        router_detail = router.status_detail if router.status == Status.ACTIVE else ""
        if result.restarted_for:
            router_detail = (
                f"BGP restarted to apply {', '.join(result.restarted_for)}: all sessions reset"
            )
        if result.drift:
            router_detail = report.router_drift_detail(result.drift, result.repair)
        elif full and router_detail.startswith(report.REPORT_ONLY_PREFIX):
            router_detail = ""  # the drift is gone
        events = drift_events
        with self._engine.begin() as conn:
            repo.set_neighbor_statuses(conn, updates=updates)
            repo.delete_neighbor_rows(conn, ids_versions=deleted)
            events += report.neighbor_status_events(router, neighbors, updates, deleted)
            if (router.status, router.status_detail) != (Status.ACTIVE, router_detail):
                written = repo.set_router_status(
                    conn,
                    router_id=router.id,
                    version=router.version,
                    status=Status.ACTIVE,
                    detail=router_detail,
                )
                if written and router.status != Status.ACTIVE:
                    events.append(report.router_status_event(router, Status.ACTIVE, router_detail))
            if self._hooks is not None and events:
                self._hooks.events.record(conn, events)
        if self._hooks is not None and events:
            self._hooks.events.notify()

    def _note_drift(
        self,
        router: RouterRecord,
        neighbors: list[NeighborRecord],
        result: PassResult,
        *,
        full: bool,
    ) -> list[Event]:
        """Drift into the neighbors' notes, the live state and the metrics; an event when
        it was repaired, or when what is reported differs from the last report."""
        for n in neighbors:
            if n.address in result.drift:
                result.peer_notes.setdefault(
                    n.address, report.drift_note(result.drift[n.address], result.repair)
                )
            elif full and n.status_detail.startswith(report.REPORT_ONLY_PREFIX):
                result.peer_notes.setdefault(n.address, "")  # the drift is gone
        if self._hooks is None or (not full and not result.drift):
            return []
        events: list[Event] = []
        if result.drift:
            self._hooks.metrics.inc(
                "sdwan_drift_detected_total", len(result.drift), router=router.name
            )
            if result.repair:
                self._hooks.metrics.inc(
                    "sdwan_drift_repairs_total", len(result.drift), router=router.name
                )
            if result.repair or result.drift != self._last_drift:
                events.append(report.drift_event(router, result.drift, result.repair))
        if full and (result.drift or self._last_drift):
            self._hooks.writer.drift(
                router.id, [] if result.repair else list(result.drift.values())
            )
        self._last_drift = {} if result.repair else dict(result.drift)
        return events
