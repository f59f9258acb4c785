"""/v1/sites, /v1/uplinks, /v1/intents (+ /v1/intents/plan, /v1/intents/{id}/plan)"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response

from sdwan.api.deps import IfMatchDep, PrincipalDep, ServicesDep, etag
from sdwan.api.limits import limited
from sdwan.api.queries import LimitQuery, OffsetQuery
from sdwan.errors import InvalidInput
from sdwan.schemas.common import ListOf
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
from sdwan.service.common import ListQuery
from sdwan.service.intent_services import IntentServices
from sdwan.service.intents import IntentInfo
from sdwan.service.sites import SiteInfo
from sdwan.service.uplinks import UplinkInfo

sites = APIRouter(prefix="/v1/sites", tags=["sites"])
uplinks = APIRouter(prefix="/v1/uplinks", tags=["uplinks"])
intents = APIRouter(prefix="/v1/intents", tags=["intents"])
routers = [sites, uplinks, intents]


def _svc(services: Any) -> IntentServices:
    bundle: IntentServices = services.intent
    return bundle


def _changes(body: Any) -> dict[str, Any]:
    changes: dict[str, Any] = body.model_dump(mode="json", exclude_unset=True)
    for field, value in changes.items():
        if value is None and field != "bandwidth_mbps":
            raise InvalidInput(f"{field}: may not be null", field=field)
    return changes


def _filters(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# --- sites -----------------------------------------------------------------------------


def site_public(info: SiteInfo, warnings: list[str] | None = None) -> SitePublic:
    site = info.record
    return SitePublic(
        **{k: v for k, v in asdict(site).items() if k != "routers"},
        routers=[
            SiteRouterPublic(
                router=m.router_uuid,
                router_name=info.router_names.get(m.router_uuid, ""),
                fib_agent=m.fib_agent,
            )
            for m in site.routers
        ],
        uplinks=info.uplinks,
        intents=info.intents,
        status=info.status,
        status_detail=info.status_detail,
        warnings=warnings or [],
    )


@sites.post("", status_code=201)
def create_site(
    body: SiteCreate, principal: PrincipalDep, services: ServicesDep, response: Response
) -> SitePublic:
    """Declare a site: its routers (each in one site at most) and its own prefixes."""
    info = _svc(services).sites.create(principal, site=body)
    response.headers["ETag"] = etag(info.record.version)
    response.headers["Location"] = f"/v1/sites/{info.record.id}"
    return site_public(info)


@sites.get("")
def list_sites(
    principal: PrincipalDep,
    services: ServicesDep,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
    sort: str | None = None,
    name: str | None = None,
) -> ListOf[SitePublic]:
    """List sites."""
    page = _svc(services).sites.list(principal, ListQuery(_filters(name=name), sort, limit, offset))
    return ListOf[SitePublic](
        items=[site_public(i) for i in page.items], total=page.total, limit=limit, offset=offset
    )


@sites.get("/{key}")
def show_site(
    key: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> SitePublic:
    """One site, by id or name."""
    info = _svc(services).sites.get(principal, key)
    response.headers["ETag"] = etag(info.record.version)
    return site_public(info)


@sites.patch("/{key}")
def update_site(
    key: str,
    body: SiteUpdate,
    principal: PrincipalDep,
    services: ServicesDep,
    if_match: IfMatchDep,
    response: Response,
) -> SitePublic:
    """Change its routers (the list replaces the old one), prefixes or next-hop-self."""
    written = _svc(services).sites.update(principal, key, changes=body, if_match=if_match)
    response.headers["ETag"] = etag(written.record.record.version)
    return site_public(written.record, written.warnings)


@sites.delete("/{key}")
def delete_site(
    key: str, principal: PrincipalDep, services: ServicesDep, if_match: IfMatchDep
) -> SitePublic:
    """Delete a site with its uplinks and intents; their policy objects leave the routers."""
    return site_public(_svc(services).sites.delete(principal, key, if_match=if_match))


# --- uplinks ---------------------------------------------------------------------------


def uplink_public(info: UplinkInfo) -> UplinkPublic:
    uplink = info.record
    return UplinkPublic(
        **{
            k: v
            for k, v in asdict(uplink).items()
            if k not in ("site_id", "router_uuid", "neighbor_address")
        },
        site=uplink.site_id,
        site_name=info.site_name,
        router=uplink.router_uuid,
        router_name=info.router_name,
        neighbor=uplink.neighbor_address,
        used_by=info.used_by,
    )


@uplinks.post("", status_code=201)
def create_uplink(
    body: UplinkCreate, principal: PrincipalDep, services: ServicesDep, response: Response
) -> UplinkPublic:
    """Give a neighbor of a site router an uplink role: transport, cost, bandwidth."""
    info = _svc(services).uplinks.create(principal, uplink=body)
    response.headers["ETag"] = etag(info.record.version)
    response.headers["Location"] = f"/v1/uplinks/{info.record.id}"
    return uplink_public(info)


@uplinks.get("")
def list_uplinks(
    principal: PrincipalDep,
    services: ServicesDep,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
    sort: str | None = None,
    site: str | None = None,
    name: str | None = None,
    transport: str | None = None,
) -> ListOf[UplinkPublic]:
    """List uplinks (of one site with ``site``)."""
    page = _svc(services).uplinks.list(
        principal,
        ListQuery(_filters(site=site, name=name, transport=transport), sort, limit, offset),
    )
    return ListOf[UplinkPublic](
        items=[uplink_public(i) for i in page.items], total=page.total, limit=limit, offset=offset
    )


@uplinks.get("/{uplink_id}")
def show_uplink(
    uplink_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> UplinkPublic:
    """One uplink."""
    info = _svc(services).uplinks.get(principal, uplink_id)
    response.headers["ETag"] = etag(info.record.version)
    return uplink_public(info)


@uplinks.patch("/{uplink_id}")
def update_uplink(
    uplink_id: str,
    body: UplinkUpdate,
    principal: PrincipalDep,
    services: ServicesDep,
    if_match: IfMatchDep,
    response: Response,
) -> UplinkPublic:
    """Change its transport, cost (intents preferring by cost follow) or bandwidth."""
    written = _svc(services).uplinks.update(principal, uplink_id, changes=body, if_match=if_match)
    response.headers["ETag"] = etag(written.record.record.version)
    return uplink_public(written.record)


@uplinks.delete("/{uplink_id}")
def delete_uplink(
    uplink_id: str, principal: PrincipalDep, services: ServicesDep, if_match: IfMatchDep
) -> UplinkPublic:
    """Delete an uplink no intent names."""
    return uplink_public(_svc(services).uplinks.delete(principal, uplink_id, if_match=if_match))


# --- intents ---------------------------------------------------------------------------


def intent_public(info: IntentInfo, warnings: list[str] | None = None) -> IntentPublic:
    intent = info.record
    state = info.state
    return IntentPublic(
        **{k: v for k, v in asdict(intent).items() if k not in ("site_id", "destination")},
        site=intent.site_id,
        site_name=info.site_name,
        destination=info.destination,
        tiers=info.tiers,
        status=info.status,
        status_detail=info.status_detail,
        verification=Verification(**asdict(state)) if state is not None else None,
        generated=[GeneratedObject(**g) for g in info.generated],
        warnings=warnings or [],
    )


@intents.post("", status_code=201)
def create_intent(
    body: IntentCreate, principal: PrincipalDep, services: ServicesDep, response: Response
) -> IntentPublic:
    """Declare a path intent; its policy objects are generated on the site's routers."""
    info = _svc(services).intents.create(principal, intent=body)
    response.headers["ETag"] = etag(info.record.version)
    response.headers["Location"] = f"/v1/intents/{info.record.id}"
    return intent_public(info)


@intents.post("/plan")
async def plan_intent(
    request: Request, body: IntentCreate, principal: PrincipalDep, services: ServicesDep
) -> IntentPlan:
    """What creating (or, if the site has one by that name, changing) this intent would
    do: the policy objects per router, their session effects, and the best path every
    router of the site would choose, and why. Changes nothing. A dry run that reads the
    routers: limited as RIB reads are (SDWAN_RIB_CONCURRENCY, SDWAN_RIB_TIMEOUT), one dry
    run per caller at once."""
    planner = _svc(services).planner
    plan = await limited(
        request, principal, lambda: planner.plan(principal, intent=body), dry_run=True
    )
    return IntentPlan(**plan)


@intents.get("")
def list_intents(
    principal: PrincipalDep,
    services: ServicesDep,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
    sort: str | None = None,
    site: str | None = None,
    name: str | None = None,
) -> ListOf[IntentPublic]:
    """List intents (of one site with ``site``), with their verification."""
    page = _svc(services).intents.list(
        principal, ListQuery(_filters(site=site, name=name), sort, limit, offset)
    )
    return ListOf[IntentPublic](
        items=[intent_public(i) for i in page.items], total=page.total, limit=limit, offset=offset
    )


@intents.get("/{intent_id}")
def show_intent(
    intent_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> IntentPublic:
    """One intent with its generated objects and its last verification."""
    info = _svc(services).intents.get(principal, intent_id)
    response.headers["ETag"] = etag(info.record.version)
    return intent_public(info)


@intents.get("/{intent_id}/plan")
async def check_intent(
    request: Request, intent_id: str, principal: PrincipalDep, services: ServicesDep
) -> IntentPlan:
    """The intent now: the predicted best path of every router next to the one it uses
    (read from the routers: limited as RIB reads are)."""
    planner = _svc(services).planner
    plan = await limited(request, principal, lambda: planner.current(principal, intent_id))
    return IntentPlan(**plan)


@intents.patch("/{intent_id}")
def update_intent(
    intent_id: str,
    body: IntentUpdate,
    principal: PrincipalDep,
    services: ServicesDep,
    if_match: IfMatchDep,
    response: Response,
) -> IntentPublic:
    """Change the destination, the preference or the return path; the generated
    objects are replaced at once (soft resets on the routers, no session reset)."""
    written = _svc(services).intents.update(principal, intent_id, changes=body, if_match=if_match)
    response.headers["ETag"] = etag(written.record.record.version)
    return intent_public(written.record, written.warnings)


@intents.delete("/{intent_id}")
def delete_intent(
    intent_id: str, principal: PrincipalDep, services: ServicesDep, if_match: IfMatchDep
) -> IntentPublic:
    """Delete an intent; its policy objects leave the routers."""
    return intent_public(_svc(services).intents.delete(principal, intent_id, if_match=if_match))
