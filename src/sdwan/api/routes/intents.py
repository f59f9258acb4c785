"""/v1/sites, /v1/uplinks, /v1/intents (declared: routes/site_owned.py builds them) and
the intents' plans: /v1/intents/plan, /v1/intents/{id}/plan."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.api.limits import limited
from sdwan.api.routes.quality import quality_public
from sdwan.api.routes.site_owned import SiteResource, build_router
from sdwan.schemas.intents import (
    GeneratedObject,
    IntentCreate,
    IntentPlan,
    IntentPublic,
    IntentUpdate,
    SiteCreate,
    SitePublic,
    SiteRouterPublic,
    SiteUpdate,
    UplinkCreate,
    UplinkPublic,
    UplinkUpdate,
    Verification,
)
from sdwan.service.intents import IntentInfo
from sdwan.service.sites import SiteInfo
from sdwan.service.uplinks import UplinkInfo, probe_of


def site_public(info: SiteInfo, warnings: list[str]) -> SitePublic:
    site = info.record
    return SitePublic(
        **{k: v for k, v in asdict(site).items() if k != "routers"},
        routers=[
            SiteRouterPublic(
                router=m.router_uuid,
                router_name=info.router_names.get(m.router_uuid, ""),
                fib_agent=m.fib_agent,
                probe_agent=m.probe_agent,
            )
            for m in site.routers
        ],
        uplinks=info.uplinks,
        intents=info.intents,
        status=info.status,
        status_detail=info.status_detail,
        warnings=warnings,
    )


def uplink_public(info: UplinkInfo, _warnings: list[str]) -> UplinkPublic:
    uplink = info.record
    return UplinkPublic(
        **{
            k: v
            for k, v in asdict(uplink).items()
            if k not in ("site_id", "router_uuid", "neighbor_address", "probe")
        },
        site=uplink.site_id,
        site_name=info.site_name,
        router=uplink.router_uuid,
        router_name=info.router_name,
        neighbor=uplink.neighbor_address,
        probe=probe_of(uplink),
        used_by=info.used_by,
        quality=quality_public(info.quality, info.stale) if info.quality is not None else None,
    )


def intent_public(info: IntentInfo, warnings: list[str]) -> IntentPublic:
    intent = info.record
    state = info.state
    return IntentPublic(
        **{
            k: v
            for k, v in asdict(intent).items()
            if k not in ("site_id", "destination", "sla_class_id")
        },
        site=intent.site_id,
        site_name=info.site_name,
        destination=info.destination,
        sla_class=info.sla_class,
        tiers=info.tiers,
        status=info.status,
        status_detail=info.status_detail,
        verification=Verification(**asdict(state)) if state is not None else None,
        generated=[GeneratedObject(**g) for g in info.generated],
        warnings=warnings,
    )


SITES = SiteResource[SiteInfo](
    path="/v1/sites",
    tag="sites",
    name="site",
    ident="key",
    service=lambda s: s.intent.sites,
    create=SiteCreate,
    update=SiteUpdate,
    public=SitePublic,
    to_public=site_public,
    filters=("name",),
    docs={
        "create": "Declare a site: its routers (each in one site at most) and its own prefixes.",
        "list": "List sites.",
        "show": "One site, by id or name.",
        "update": "Change its routers (the list replaces the old one), prefixes or next-hop-self.",
        "delete": "Delete a site with its uplinks and intents; their policy objects leave "
        "the routers.",
    },
)
UPLINKS = SiteResource[UplinkInfo](
    path="/v1/uplinks",
    tag="uplinks",
    name="uplink",
    ident="uplink_id",
    service=lambda s: s.intent.uplinks,
    create=UplinkCreate,
    update=UplinkUpdate,
    public=UplinkPublic,
    to_public=uplink_public,
    filters=("site", "name", "transport"),
    docs={
        "create": "Give a neighbor of a site router an uplink role: transport, cost, bandwidth.",
        "list": "List uplinks (of one site with ``site``), each with its measured quality.",
        "show": "One uplink with its measured quality (``quality``: the probe agent's last "
        "report; null when it never reported; ``stale`` when that report is old).",
        "update": "Change its transport, cost (intents preferring by cost follow), bandwidth "
        "or how it is measured (``probe``, replaced whole).",
        "delete": "Delete an uplink no intent names.",
    },
)
INTENTS = SiteResource[IntentInfo](
    path="/v1/intents",
    tag="intents",
    name="intent",
    ident="intent_id",
    service=lambda s: s.intent.intents,
    create=IntentCreate,
    update=IntentUpdate,
    public=IntentPublic,
    to_public=intent_public,
    filters=("site", "name"),
    docs={
        "create": "Declare a path intent; its policy objects are generated on the site's routers.",
        "list": "List intents (of one site with ``site``), with their verification.",
        "show": "One intent with its generated objects and its last verification.",
        "update": "Change the destination, the preference, the return path or the SLA class "
        "(``sla_class``: null clears it); the generated\nobjects are replaced at once (soft "
        "resets on the routers, no session reset).",
        "delete": "Delete an intent; its policy objects leave the routers.",
    },
)

plans = APIRouter(prefix="/v1/intents", tags=["intents"])


@plans.post("/plan")
async def plan_intent(
    request: Request, body: IntentCreate, principal: PrincipalDep, services: ServicesDep
) -> IntentPlan:
    """What creating (or, if the site has one by that name, changing) this intent would
    do: the policy objects per router, their session effects, and the best path every
    router of the site would choose, and why. Changes nothing. A dry run that reads the
    routers: limited as RIB reads are (SDWAN_RIB_CONCURRENCY, SDWAN_RIB_TIMEOUT), one dry
    run per caller at once."""
    planner = services.intent.planner
    plan = await limited(
        request, principal, lambda: planner.plan(principal, intent=body), dry_run=True
    )
    return IntentPlan(**plan)


@plans.get("/{intent_id}/plan")
async def check_intent(
    request: Request, intent_id: str, principal: PrincipalDep, services: ServicesDep
) -> IntentPlan:
    """The intent now: the predicted best path of every router next to the one it uses
    (read from the routers: limited as RIB reads are)."""
    planner = services.intent.planner
    plan = await limited(request, principal, lambda: planner.current(principal, intent_id))
    return IntentPlan(**plan)


routers = [*(build_router(r) for r in (SITES, UPLINKS, INTENTS)), plans]
