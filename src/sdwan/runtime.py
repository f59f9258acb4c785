"""Wiring: the one place that builds the engine, secrets, reconciler and services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine

from sdwan.auth.keystone import KeystoneAuthenticator
from sdwan.auth.throttle import LoginThrottle
from sdwan.auth.tokens import TokenAuthenticator
from sdwan.config import Settings
from sdwan.events.log import EventLog
from sdwan.fib.status import read_routes
from sdwan.fleet.service import FleetService
from sdwan.gobgp.client import GobgpClient
from sdwan.live.hub import WatchHub
from sdwan.live.writer import LiveWriter
from sdwan.metrics import Metrics
from sdwan.reconcile.controller import Reconciler
from sdwan.reconcile.live_hooks import LiveHooks
from sdwan.reconcile.router_pass import SpeakerFactory
from sdwan.secretbox import SecretBox
from sdwan.service import policy_specs as specs
from sdwan.service.api_addresses import AddressPolicy
from sdwan.service.audit import AuditService, ResourceAudit
from sdwan.service.children import ChildService
from sdwan.service.common import ChangeNotifier, NoNotifier
from sdwan.service.identity import IdentityService
from sdwan.service.intent_services import IntentServices, build_intent_services
from sdwan.service.live import LiveService
from sdwan.service.neighbors import NeighborService
from sdwan.service.policyinfo import PolicyInfoService
from sdwan.service.resource_events import TransactionalEvents
from sdwan.service.rib import RibService
from sdwan.service.routers import RouterService
from sdwan.service.uow import DeferredCalls
from sdwan.store.batch_writer import BatchWriter
from sdwan.store.db import make_engine, migrate
from sdwan.store.identity_repo import audited_tables
from sdwan.verify.controller import IntentController


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    secrets: SecretBox
    authenticator: TokenAuthenticator
    keystone: KeystoneAuthenticator | None
    reconciler: Reconciler | None
    routers: RouterService
    neighbors: NeighborService
    rib: RibService
    sets: ChildService
    policies: ChildService
    attachments: ChildService
    announcements: ChildService
    policyinfo: PolicyInfoService
    fleet: FleetService
    generated_admin_token: str | None
    events: EventLog
    live: LiveService
    live_writer: LiveWriter
    identity: IdentityService
    audit: AuditService
    store_writer: BatchWriter
    hub: WatchHub | None = None  # None with fake speakers: no WatchEvent streams
    background_engine: Engine | None = None  # status and live state writers
    intent: IntentServices | None = None  # sites, uplinks, intents, plans
    intent_controller: IntentController | None = None  # compiled and checked intents

    def start(self) -> None:
        self.store_writer.start()
        if self.hub is not None:
            self.hub.start()
        if self.reconciler is not None:
            self.reconciler.start()
        if self.intent_controller is not None:
            self.intent_controller.start()

    def stop(self) -> None:
        if self.intent_controller is not None:
            self.intent_controller.stop()
        if self.reconciler is not None:
            self.reconciler.stop()
        if self.hub is not None:
            self.hub.stop()
        self.store_writer.stop()
        self.engine.dispose()
        if self.background_engine is not None:
            self.background_engine.dispose()


def build_runtime(settings: Settings, *, speaker_factory: SpeakerFactory | None = None) -> Runtime:
    """Migrate the schema, make sure an admin token exists, build the services.
    With a ``speaker_factory`` (fakes in unit tests) no WatchEvent streams are opened:
    the reconciler probes with GetBgp instead."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    background = make_engine(settings.database_url, durable=False)
    secrets = SecretBox.from_key_file(settings.secret_key_file)
    authenticator = TokenAuthenticator(engine)
    generated = authenticator.ensure_bootstrap(settings.admin_token)
    events = EventLog(background)
    metrics = Metrics()
    store_writer = BatchWriter(background, on_commit=events.notify, idle=events.prune_quietly)
    live_writer = LiveWriter(store_writer, events)
    hub = None
    if speaker_factory is None:
        hub = WatchHub(live_writer, timeout=settings.grpc_timeout)
    hooks = LiveHooks(live_writer, events, metrics)
    reconciler = (
        Reconciler(
            engine=background,
            writer=store_writer,
            secrets=secrets,
            settings=settings,
            speaker_factory=speaker_factory,
            hooks=hooks,
            hub=hub,
        )
        if settings.run_reconciler
        else None
    )
    # services tell the reconciler and publish events only once their change commits
    notifier = cast(ChangeNotifier, DeferredCalls(reconciler or NoNotifier()))
    resource_events = TransactionalEvents(events, ResourceAudit(audited_tables()))
    addresses = AddressPolicy(settings.api_address_allow)
    routers = RouterService(
        engine=engine, notifier=notifier, events=resource_events, addresses=addresses
    )
    neighbors = NeighborService(
        engine=engine, notifier=notifier, secrets=secrets, events=resource_events
    )
    rib = RibService(
        routers=routers,
        neighbors=neighbors,
        sources=lambda target: GobgpClient(target, timeout=settings.grpc_timeout),
        timeout=settings.rib_timeout,
    )
    owned = {
        name: ChildService(spec, engine=engine, notifier=notifier, events=resource_events)
        for name, spec in (
            ("sets", specs.SETS),
            ("policies", specs.POLICIES),
            ("attachments", specs.ATTACHMENTS),
            ("announcements", specs.ANNOUNCEMENTS),
        )
    }
    rib_sources = lambda target: GobgpClient(target, timeout=settings.grpc_timeout)  # noqa: E731
    intent = build_intent_services(
        engine=engine,
        notifier=notifier,
        events=resource_events,
        addresses=addresses,
        sources=rib_sources,
        fib=read_routes,
    )
    controller = None
    if settings.run_reconciler and settings.intent_check_interval > 0:
        controller = IntentController(
            engine=background,
            events=events,
            notifier=notifier,
            sources=rib_sources,
            fib=read_routes,
            interval=settings.intent_check_interval,
        )
    return Runtime(
        settings=settings,
        engine=engine,
        secrets=secrets,
        authenticator=authenticator,
        keystone=(
            KeystoneAuthenticator(settings.keystone, engine)
            if settings.auth_backend == "keystone" and settings.keystone is not None
            else None
        ),
        reconciler=reconciler,
        routers=routers,
        neighbors=neighbors,
        rib=rib,
        **owned,
        policyinfo=PolicyInfoService(
            engine=engine,
            notifier=notifier,
            policies=owned["policies"],
            attachments=owned["attachments"],
        ),
        fleet=FleetService(
            engine=engine,
            secrets=secrets,
            routers=routers,
            neighbors=neighbors,
            owned=owned,
            intent=intent,
        ),
        generated_admin_token=generated,
        events=events,
        live=LiveService(engine=engine, events=events, metrics=metrics),
        live_writer=live_writer,
        identity=IdentityService(
            engine,
            session_ttl=settings.session_ttl,
            throttle=LoginThrottle(),
            api_key_max_ttl=settings.api_key_max_ttl,
        ),
        audit=AuditService(engine),
        store_writer=store_writer,
        hub=hub,
        background_engine=background,
        intent=intent,
        intent_controller=controller,
    )
