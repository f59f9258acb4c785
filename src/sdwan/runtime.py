"""Wiring: the one place that builds the engine, secrets, controllers and services."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from sdwan.alerting.runner import Alerting, build_alerting
from sdwan.api.deps import Services
from sdwan.auth.keystone import KeystoneAuthenticator
from sdwan.auth.throttle import LoginThrottle
from sdwan.auth.tokens import TokenAuthenticator
from sdwan.cluster import Cluster, build_cluster, notifier_for
from sdwan.config import Settings
from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.domain.tls import check_ca_pem
from sdwan.events.log import EventLog
from sdwan.fib.status import read_routes
from sdwan.fleet.restore import RestoreService
from sdwan.fleet.restore_writes import ObjectWriter
from sdwan.fleet.service import FleetService
from sdwan.gobgp.client import GobgpClient
from sdwan.live.hub import WatchHub
from sdwan.live.writer import LiveWriter
from sdwan.metrics import Metrics
from sdwan.quality.controller import QualityController
from sdwan.reconcile.controller import Controller
from sdwan.reconcile.live_hooks import LiveHooks
from sdwan.reconcile.reconciler import SpeakerFactory
from sdwan.rollout.controller import RolloutController
from sdwan.rollout.gate import GateProbe
from sdwan.rollout.probe import ProbeGate
from sdwan.rollout.service import RolloutService
from sdwan.secretbox import SecretBox
from sdwan.service import policy_specs as specs
from sdwan.service.alert_services import build_alert_services
from sdwan.service.api_addresses import AddressPolicy
from sdwan.service.audit import AuditService, ResourceAudit
from sdwan.service.identity import IdentityService
from sdwan.service.intent_observe import PlanLimits, RibSources
from sdwan.service.intent_services import build_intent_services
from sdwan.service.live import LiveService
from sdwan.service.neighbors import NeighborService
from sdwan.service.owned import OwnedService, OwnedSpec, R
from sdwan.service.policyinfo import PolicyInfoService
from sdwan.service.replicas import ReplicaService
from sdwan.service.resource_events import TransactionalEvents
from sdwan.service.revision_log import Retention, RevisionRecorder
from sdwan.service.revisions import RevisionService
from sdwan.service.rib import RibService
from sdwan.service.routers import RouterService
from sdwan.service.webhook_addresses import WebhookAddressPolicy
from sdwan.store.batch_writer import BatchWriter
from sdwan.store.db import ROLLOUTS_LEADER_LOCK, make_engine, migrate
from sdwan.store.key_check import check_key
from sdwan.store.leader import AdvisoryLeader, SoleLeader
from sdwan.verify.controller import IntentController


@dataclass
class Runtime:
    """The services (the one container the API reaches them through) and what runs
    beside them: the reconcile controller, the watch streams, the writers, the replicas' lease
    and change feed, the intent controller."""

    settings: Settings
    engine: Engine
    secrets: SecretBox
    services: Services
    router_controller: Controller | None  # the reconcile pool (reconcile/controller.py)
    generated_admin_token: str | None
    events: EventLog
    live_writer: LiveWriter
    store_writer: BatchWriter
    cluster: Cluster
    background_engine: Engine  # status and live state writers
    rib_sources: RibSources  # a router's endpoint -> a gRPC client trusting the default CA
    hub: WatchHub | None = None  # None without WatchEvent streams (watch_streams=False)
    intent_controller: IntentController | None = None  # compiled and checked intents
    alerting: Alerting | None = None  # alert rules evaluated, webhooks delivered
    quality_controller: QualityController | None = None  # probe agents, SLA steering
    rollout_controller: RolloutController | None = None  # staged and confirmed changes
    _registered: bool = field(default=False, init=False)

    def register(self) -> None:
        """Replicas: claim this replica's name (StartupRefused if a live one has it)."""
        if self.cluster.replicated and self.router_controller is not None and not self._registered:
            self.cluster.ownership.register()
            self._registered = True

    def start(self) -> None:
        self.store_writer.start()
        if self.hub is not None:
            self.hub.start()
        if self.router_controller is not None:
            self.router_controller.start()
        if self.cluster.feed is not None:
            self.cluster.feed.start()
        if self.router_controller is not None:  # replicas: take leases (one process: owns all)
            self.register()
            self.cluster.ownership.start(self.router_controller)
        if self.intent_controller is not None:
            self.intent_controller.start()
        if self.quality_controller is not None:
            self.quality_controller.start()
        if self.alerting is not None:
            self.alerting.start()
        if self.rollout_controller is not None:
            self.rollout_controller.start()

    def stop(self) -> None:
        if self.rollout_controller is not None:
            self.rollout_controller.stop()
        if self.alerting is not None:
            self.alerting.stop()
        if self.quality_controller is not None:
            self.quality_controller.stop()
        if self.intent_controller is not None:
            self.intent_controller.stop()
        ownership = self.cluster.ownership
        ownership.halt()  # no more leases taken or renewed
        if self.router_controller is not None:
            self.router_controller.stop()
        if self._registered:
            ownership.leave()  # the others take the routers over at once
        if self.cluster.feed is not None:
            self.cluster.feed.stop()
        if self.hub is not None:
            self.hub.stop()
        self.store_writer.stop()
        self.engine.dispose()
        self.background_engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    speaker_factory: SpeakerFactory | None = None,
    watch_streams: bool = True,
) -> Runtime:
    """Migrate the schema, make sure an admin token exists, build the services.
    ``speaker_factory`` makes the reconciler's gobgpd clients (default: gRPC);
    ``watch_streams=False`` opens no WatchEvent streams (speakers that have none): the
    reconciler then probes each router with GetBgp every ``probe_interval``."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    background = make_engine(settings.database_url, durable=False)
    secrets = SecretBox.from_key_file(settings.secret_key_file, key=settings.secret_key)
    key_source = "SDWAN_SECRET_KEY" if settings.secret_key else str(settings.secret_key_file)
    check_key(engine, secrets, key_source=key_source)
    cluster = build_cluster(settings, engine)
    if cluster.ordered is not None:
        for each in (engine, background):
            cluster.ordered.install(each)
    authenticator = TokenAuthenticator(engine)
    generated = authenticator.ensure_bootstrap(settings.admin_token)
    events = EventLog(background, ordered=cluster.ordered)
    metrics = Metrics()
    store_writer = BatchWriter(background, on_commit=events.notify, idle=events.prune_quietly)
    live_writer = LiveWriter(store_writer, events)
    hub = WatchHub(live_writer, timeout=settings.grpc_timeout) if watch_streams else None
    default_ca = _read_ca(settings.gobgpd_ca_file)
    hooks = LiveHooks(live_writer, events, metrics)
    router_controller = (
        Controller(
            engine=background,
            writer=store_writer,
            secrets=secrets,
            settings=settings,
            speaker_factory=speaker_factory,
            hooks=hooks,
            hub=hub,
            ownership=cluster.ownership,
            default_ca=default_ca,
        )
        if settings.run_reconciler
        else None
    )
    live_writer.owns = cluster.ownership.owns
    # services tell the controller (on PostgreSQL: every replica) once a change commits
    notifier = notifier_for(cluster, settings, engine, router_controller, events)
    retention = Retention(keep=settings.revision_keep, days=settings.revision_days)
    recorder = RevisionRecorder(retention)
    resource_events = TransactionalEvents(events, ResourceAudit(), recorder)
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
        sources=lambda endpoint: GobgpClient(endpoint, timeout=settings.grpc_timeout),
        timeout=settings.rib_timeout,
        default_ca=default_ca,
    )

    def owned(spec: OwnedSpec[R]) -> OwnedService[R]:
        return OwnedService(spec, engine=engine, notifier=notifier, events=resource_events)

    sets, policies = owned(specs.SETS), owned(specs.POLICIES)
    attachments, announcements = owned(specs.ATTACHMENTS), owned(specs.ANNOUNCEMENTS)

    def rib_sources(endpoint: GobgpEndpoint) -> GobgpClient:  # with the default CA
        return GobgpClient(
            GobgpEndpoint.of(
                endpoint.target,
                tls=endpoint.tls,
                ca_pem=endpoint.ca_pem,
                server_name=endpoint.server_name,
                default_ca=default_ca,
            ),
            timeout=settings.grpc_timeout,
        )

    intent = build_intent_services(
        engine=engine,
        notifier=notifier,
        events=resource_events,
        addresses=addresses,
        sources=rib_sources,
        fib=read_routes,
        limits=PlanLimits(settings.rib_timeout, settings.plan_max_steps),
        neighbors=neighbors,
    )
    intent_controller = None
    if settings.run_reconciler and settings.intent_check_interval > 0:
        intent_controller = IntentController(
            engine=background,
            events=events,
            notifier=notifier,
            sources=rib_sources,
            fib=read_routes,
            interval=settings.intent_check_interval,
            owns=cluster.ownership.owns if cluster.replicated else None,
            limits=PlanLimits(max_steps=settings.plan_max_steps),
        )
    hook_addresses = WebhookAddressPolicy(settings.webhook_allow)
    alerting = None
    if settings.run_reconciler:
        alerting = build_alerting(
            settings, engine=background, events=events, secrets=secrets, addresses=hook_addresses
        )
    quality = None
    if settings.run_reconciler and settings.path_quality:
        quality = QualityController(
            engine=background,
            writer=store_writer,
            events=events,
            notifier=notifier,
            metrics=metrics,
            owns=cluster.ownership.owns if cluster.replicated else None,
        )
    policyinfo = PolicyInfoService(
        engine=engine,
        notifier=notifier,
        policies=policies,
        attachments=attachments,
        events=resource_events,
    )
    owned_by_section: dict[str, OwnedService[Any]] = {  # by the fleet file's section
        "defined_sets": sets,
        "policies": policies,
        "attachments": attachments,
        "announcements": announcements,
    }
    revisions = RevisionService(engine=engine)
    fleet = FleetService(
        engine=engine, routers=routers, neighbors=neighbors, owned=owned_by_section, intent=intent
    )
    restore = RestoreService(
        engine=engine,
        revisions=revisions,
        writer=ObjectWriter(
            secrets=secrets,
            routers=routers,
            neighbors=neighbors,
            owned=owned_by_section,
            policyinfo=policyinfo,
            intent=intent,
        ),
    )
    rollouts = RolloutService(engine=engine, events=events, fleet=fleet, secrets=secrets)
    recorder.confirmations = rollouts.confirm_write
    rollout_controller = None
    if settings.run_reconciler:
        rollout_controller = RolloutController(
            engine=engine,
            events=events,
            leader=(
                AdvisoryLeader(engine, ROLLOUTS_LEADER_LOCK, job="rollouts")
                if cluster.replicated
                else SoleLeader()
            ),
            fleet=fleet,
            restore=restore,
            gate=ProbeGate(
                GateProbe(
                    engine=background,
                    sources=rib_sources,
                    fib=read_routes,
                    timeout=settings.rib_timeout,
                    max_steps=settings.plan_max_steps,
                )
            ),
            secrets=secrets,
            settle=settings.rollout_settle,
        )
        rollouts.wake = rollout_controller.wake
    services = Services(
        routers=routers,
        neighbors=neighbors,
        rib=rib,
        sets=sets,
        policies=policies,
        attachments=attachments,
        announcements=announcements,
        policyinfo=policyinfo,
        intent=intent,
        alerts=build_alert_services(
            engine=engine, events=resource_events, secrets=secrets, addresses=hook_addresses
        ),
        fleet=fleet,
        revisions=revisions,
        restore=restore,
        rollouts=rollouts,
        live=LiveService(
            engine=engine, events=events, metrics=metrics, owners=cluster.directory.owners
        ),
        replicas=ReplicaService(cluster.directory),
        identity=IdentityService(
            engine,
            session_ttl=settings.session_ttl,
            throttle=LoginThrottle(),
            api_key_max_ttl=settings.api_key_max_ttl,
        ),
        audit=AuditService(engine),
        authenticator=authenticator,
        keystone=(
            KeystoneAuthenticator(settings.keystone, engine)
            if settings.auth_backend == "keystone" and settings.keystone is not None
            else None
        ),
    )
    return Runtime(
        settings=settings,
        engine=engine,
        secrets=secrets,
        services=services,
        router_controller=router_controller,
        generated_admin_token=generated,
        events=events,
        live_writer=live_writer,
        store_writer=store_writer,
        cluster=cluster,
        background_engine=background,
        rib_sources=rib_sources,
        hub=hub,
        intent_controller=intent_controller,
        alerting=alerting,
        quality_controller=quality,
        rollout_controller=rollout_controller,
    )


def _read_ca(path: Path | None) -> str | None:
    """SDWAN_GOBGPD_CA_FILE: the CA(s) trusted for TLS routers that name none."""
    if path is None:
        return None
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"SDWAN_GOBGPD_CA_FILE: cannot read {path}: {exc.strerror}") from None
    check_ca_pem(text, what="SDWAN_GOBGPD_CA_FILE")
    return text
