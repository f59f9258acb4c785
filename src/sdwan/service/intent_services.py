"""The intent services as one bundle, built once by the runtime."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from sdwan.service.api_addresses import AddressPolicy
from sdwan.service.common import ChangeNotifier
from sdwan.service.intent_observe import FibReader, PlanLimits, RibSources
from sdwan.service.intent_plan import IntentPlanner
from sdwan.service.intents import IntentService
from sdwan.service.neighbors import NeighborService
from sdwan.service.resource_events import EventSink
from sdwan.service.sites import SiteService
from sdwan.service.sla_classes import SlaClassService
from sdwan.service.uplinks import UplinkService, neighbor_is_uplink


@dataclass(frozen=True)
class IntentServices:
    sites: SiteService
    uplinks: UplinkService
    intents: IntentService
    planner: IntentPlanner
    sla_classes: SlaClassService


def build_intent_services(
    *,
    engine: Engine,
    notifier: ChangeNotifier,
    events: EventSink,
    addresses: AddressPolicy,
    sources: RibSources,
    fib: FibReader | None,
    neighbors: NeighborService,
    limits: PlanLimits | None = None,
) -> IntentServices:
    """``notifier`` and ``events`` must defer to the commit (DeferredCalls). The
    neighbors an uplink names stay until the uplink goes (a guard on ``neighbors``)."""
    neighbors.guard_delete(neighbor_is_uplink)
    intents = IntentService(engine=engine, notifier=notifier, events=events)
    return IntentServices(
        sites=SiteService(engine=engine, notifier=notifier, addresses=addresses, events=events),
        uplinks=UplinkService(engine=engine, notifier=notifier, events=events),
        intents=intents,
        planner=IntentPlanner(
            engine=engine, intents=intents, sources=sources, fib=fib, limits=limits
        ),
        sla_classes=SlaClassService(engine=engine, notifier=notifier, events=events),
    )
