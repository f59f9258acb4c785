"""Wiring: the one place that builds the engine, secrets, reconciler and services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from sdwan.auth.tokens import TokenAuthenticator
from sdwan.config import Settings
from sdwan.reconcile.manager import Reconciler
from sdwan.reconcile.worker import SpeakerFactory
from sdwan.secretbox import SecretBox
from sdwan.service.common import ChangeNotifier, NoNotifier
from sdwan.service.neighbors import NeighborService
from sdwan.service.routers import RouterService
from sdwan.store.db import make_engine, migrate


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    secrets: SecretBox
    authenticator: TokenAuthenticator
    reconciler: Reconciler | None
    routers: RouterService
    neighbors: NeighborService
    generated_admin_token: str | None

    def start(self) -> None:
        if self.reconciler is not None:
            self.reconciler.start()

    def stop(self) -> None:
        if self.reconciler is not None:
            self.reconciler.stop()
        self.engine.dispose()


def build_runtime(settings: Settings, *, speaker_factory: SpeakerFactory | None = None) -> Runtime:
    """Migrate the schema, make sure an admin token exists, build the services."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    secrets = SecretBox.from_key_file(settings.secret_key_file)
    authenticator = TokenAuthenticator(engine)
    generated = authenticator.ensure_bootstrap(settings.admin_token)
    reconciler = (
        Reconciler(
            engine=engine, secrets=secrets, settings=settings, speaker_factory=speaker_factory
        )
        if settings.run_reconciler
        else None
    )
    notifier: ChangeNotifier = reconciler if reconciler is not None else NoNotifier()
    return Runtime(
        settings=settings,
        engine=engine,
        secrets=secrets,
        authenticator=authenticator,
        reconciler=reconciler,
        routers=RouterService(engine=engine, notifier=notifier),
        neighbors=NeighborService(engine=engine, notifier=notifier, secrets=secrets),
        generated_admin_token=generated,
    )
