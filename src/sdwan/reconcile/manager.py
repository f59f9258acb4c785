"""All routers' workers: started with the server, told about every change."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from sdwan.config import Settings
from sdwan.gobgp.client import GobgpClient
from sdwan.reconcile.live_hooks import LiveHooks
from sdwan.reconcile.worker import RouterWorker, SpeakerFactory
from sdwan.secretbox import SecretBox
from sdwan.store import repo

log = logging.getLogger(__name__)


class Reconciler:
    """Implements the service layer's ChangeNotifier: one RouterWorker per router."""

    def __init__(
        self,
        *,
        engine: Engine,
        secrets: SecretBox,
        settings: Settings,
        speaker_factory: SpeakerFactory | None = None,
        hooks: LiveHooks | None = None,
    ) -> None:
        self._engine = engine
        self._hooks = hooks
        self._secrets = secrets
        self._settings = settings
        self._speaker_factory: SpeakerFactory = speaker_factory or (
            lambda target: GobgpClient(target, timeout=settings.grpc_timeout)
        )
        self._workers: dict[str, RouterWorker] = {}
        self._lock = threading.Lock()
        self._running = False

    def start(self) -> None:
        with self._engine.connect() as conn:
            router_ids = repo.all_router_ids(conn)
        with self._lock:
            self._running = True
        for router_id in router_ids:
            self.router_changed(router_id)
        log.info("reconciler started for %d routers", len(router_ids))

    def stop(self) -> None:
        with self._lock:
            self._running = False
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.stop()

    def router_changed(self, router_id: str, addresses: set[str] | None = None) -> None:
        """A router or some of its neighbors (by address) changed in the store."""
        with self._lock:
            if not self._running:
                return
            worker = self._workers.get(router_id)
            if worker is None:
                worker = RouterWorker(
                    router_id,
                    engine=self._engine,
                    secrets=self._secrets,
                    settings=self._settings,
                    speaker_factory=self._speaker_factory,
                    on_exit=self._forget,
                    hooks=self._hooks,
                )
                self._workers[router_id] = worker
                worker.start()
                return  # a new worker starts with a full pass
        worker.request(addresses)

    def _forget(self, router_id: str) -> None:
        with self._lock:
            self._workers.pop(router_id, None)
        if self._hooks is not None:
            self._hooks.writer.forget(router_id)
