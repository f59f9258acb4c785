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
from sdwan.gobgp.client import BgpSpeaker
from sdwan.reconcile.apply import PassResult, apply_global, apply_peers
from sdwan.reconcile.desired import global_of, peer_of
from sdwan.reconcile.plan import global_differs
from sdwan.secretbox import SecretBox
from sdwan.store import repo
from sdwan.store.records import NeighborRecord, RouterRecord

log = logging.getLogger(__name__)
SpeakerFactory = Callable[[str], BgpSpeaker]
FULL_SCAN_THRESHOLD = 64  # more dirty neighbors than this: one full pass instead


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
    ) -> None:
        self.router_id = router_id
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
            self._speaker_target = router.api_address
        return self._speaker

    def _mark_unreachable(self, router: RouterRecord, exc: SpeakerError) -> None:
        self._reachable = False
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
        if router.status != Status.ERROR or router.status_detail != detail:
            with self._engine.begin() as conn:
                repo.set_router_status(
                    conn, router_id=router.id, version=None, status=Status.ERROR, detail=detail
                )
        level = logging.WARNING if router.status != Status.ERROR else logging.DEBUG
        log.log(level, "router %s: %s", router.name, detail)

    # --- one pass ------------------------------------------------------------------

    def _pass(self, pending: _Pending) -> bool:
        """Returns True when the router is gone and the worker should end."""
        router = self._load_router()
        if router is None:
            return True
        scope = None if pending.full else pending.addresses
        try:
            speaker = self._speaker_for(router)
            if router.status == Status.PENDING_DELETE:
                self._delete_router(speaker, router)
                return True
            result = apply_global(speaker, global_of(router))
            neighbors = self._load_neighbors(router, scope)
            desired = {
                n.address: peer_of(n, self._secrets)
                for n in neighbors
                if n.status != Status.PENDING_DELETE
            }
            apply_peers(speaker, desired, scope=scope, result=result)
        except SpeakerUnreachable as exc:
            self._mark_unreachable(router, exc)
            return False
        except SpeakerRejected as exc:
            self._fail(router, exc)
            return False
        self._reachable = True
        self._backoff = 0.0
        self._write_status(router, neighbors, result)
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
        self, router: RouterRecord, neighbors: list[NeighborRecord], result: PassResult
    ) -> None:
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
        with self._engine.begin() as conn:
            repo.set_neighbor_statuses(conn, updates=updates)
            repo.delete_neighbor_rows(conn, ids_versions=deleted)
            if (router.status, router.status_detail) != (Status.ACTIVE, router_detail):
                repo.set_router_status(
                    conn,
                    router_id=router.id,
                    version=router.version,
                    status=Status.ACTIVE,
                    detail=router_detail,
                )
