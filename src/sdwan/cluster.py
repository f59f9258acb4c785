"""One process or several replicas: the one place that builds what differs.

SQLite (one process): it owns every router (``SoleOwner``), the services call its
controller after each commit, the event log wakes its own readers.

PostgreSQL (replicas): router leases (reconcile/ownership.py), a change feed over
LISTEN/NOTIFY (events/feed.py) that brings changes to the owner and events to every
replica's readers, events in commit order (events/ordered.py), and the replicas
table behind ``GET /v1/replicas``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine

from sdwan import __version__
from sdwan.config import Settings
from sdwan.events.feed import LEASES_CHANNEL, FeedListener, notify
from sdwan.events.log import EventLog
from sdwan.events.ordered import OrderedEvents
from sdwan.reconcile.controller import Controller
from sdwan.reconcile.ownership import LeaseOwnership, ReplicaIdentity, SoleOwner
from sdwan.service.common import ChangeNotifier, NoNotifier
from sdwan.service.publish import PublishingNotifier
from sdwan.service.replicas import ClusterReplicas, ReplicaDirectory, SoleReplica
from sdwan.service.uow import DeferredCalls
from sdwan.store.db import is_postgres


@dataclass
class Cluster:
    identity: ReplicaIdentity
    ownership: SoleOwner | LeaseOwnership
    directory: ReplicaDirectory
    ordered: OrderedEvents | None = None  # PostgreSQL: events in commit order
    feed: FeedListener | None = None  # PostgreSQL: LISTEN
    changes: ClusterChanges | None = None

    @property
    def replicated(self) -> bool:
        return isinstance(self.ownership, LeaseOwnership)


def build_cluster(settings: Settings, engine: Engine) -> Cluster:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    identity = ReplicaIdentity(
        name=settings.replica,
        instance=str(uuid.uuid4()),
        address=f"{host}:{settings.port}",
        version=__version__,
    )
    directory: ReplicaDirectory
    if not is_postgres(engine):
        directory = SoleReplica(
            engine,
            name=identity.name,
            address=identity.address,
            version=identity.version,
            drives=settings.run_reconciler,
        )
        return Cluster(identity, SoleOwner(), directory)

    def announce() -> None:
        with engine.begin() as conn:
            notify(conn, LEASES_CHANNEL, identity.instance)

    ownership = LeaseOwnership(engine, identity, lease=settings.lease_duration, announce=announce)
    directory = ClusterReplicas(engine, name=identity.name, lease=settings.lease_duration)
    return Cluster(identity, ownership, directory, ordered=OrderedEvents(identity.instance))


class ClusterChanges:
    """What a change, wherever it was accepted, sets going on this replica: the
    controller (which skips the routers it does not own) and, for a router the lease
    thread has not seen yet, a look at the assignment at once. Also the handlers of
    the change feed."""

    def __init__(
        self, controller: Controller | None, ownership: LeaseOwnership, events: EventLog
    ) -> None:
        self._controller = controller
        self._ownership = ownership
        self._events = events

    def router_changed(self, router_id: str, addresses: set[str] | None = None) -> None:
        if self._controller is not None:
            self._controller.router_changed(router_id, addresses)
        if not self._ownership.knows(router_id):
            self._ownership.wake()  # a new router: someone must take its lease

    def events_added(self) -> None:
        self._events.notify()

    def leases_moved(self) -> None:
        self._ownership.wake()

    def reconnected(self) -> None:
        if self._controller is not None:
            self._controller.resync()
        self._ownership.wake()
        self._events.notify()


def notifier_for(
    cluster: Cluster,
    settings: Settings,
    engine: Engine,
    controller: Controller | None,
    events: EventLog,
) -> ChangeNotifier:
    """What the services call after a change; on PostgreSQL also starts the feed."""
    if not isinstance(cluster.ownership, LeaseOwnership):
        return cast(ChangeNotifier, DeferredCalls(controller or NoNotifier()))
    changes = ClusterChanges(
        controller if settings.run_reconciler else None, cluster.ownership, events
    )
    cluster.changes = changes
    cluster.feed = FeedListener(
        settings.database_url, origin=cluster.identity.instance, handlers=changes
    )
    return PublishingNotifier(engine, changes, origin=cluster.identity.instance)
