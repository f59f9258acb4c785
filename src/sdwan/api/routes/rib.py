"""RIB views: /v1/routers/{router}/rib, /v1/neighbors/{id}/rib-in and /rib-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.api.limits import limited
from sdwan.gobgp.paths import Table
from sdwan.schemas.rib import RibPagePublic, RoutePublic
from sdwan.service.rib import RibPage, RibQuery

router = APIRouter(tags=["rib"])

FamilyQuery = Annotated[
    str | None,
    Query(description="ipv4-unicast or ipv6-unicast; default: the prefix's, else the table's"),
]
PrefixQuery = Annotated[
    str | None,
    Query(description="only this prefix (CIDR); an address: its longest match"),
]
LongerQuery = Annotated[bool, Query(description="with prefix: every prefix inside it")]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="prefixes per page")]
AfterQuery = Annotated[str | None, Query(description="the previous page's 'next'")]


def _public(page: RibPage) -> RibPagePublic:
    return RibPagePublic(
        items=[RoutePublic.of(r) for r in page.items],
        next=page.next,
        limit=page.limit,
        family=page.family,
    )


@router.get("/v1/routers/{router_key}/rib")
async def global_rib(
    request: Request,
    router_key: str,
    principal: PrincipalDep,
    services: ServicesDep,
    family: FamilyQuery = None,
    prefix: PrefixQuery = None,
    longer: LongerQuery = False,
    best: Annotated[bool, Query(description="best paths only")] = False,
    limit: LimitQuery = 100,
    after: AfterQuery = None,
) -> RibPagePublic:
    """The router's global RIB, read live from its gobgpd, in prefix order."""
    query = RibQuery(family, prefix, longer, best, limit, after)
    page = await limited(  # at most SDWAN_RIB_CONCURRENCY at once per caller
        request, principal, lambda: services.rib.global_rib(principal, router_key, query)
    )
    return _public(page)


def _adj(table: Table, path: str, summary: str) -> None:
    @router.get(path, summary=summary)
    async def adj_rib(
        request: Request,
        neighbor_id: str,
        principal: PrincipalDep,
        services: ServicesDep,
        family: FamilyQuery = None,
        prefix: PrefixQuery = None,
        longer: LongerQuery = False,
        limit: LimitQuery = 100,
        after: AfterQuery = None,
    ) -> RibPagePublic:
        query = RibQuery(family, prefix, longer, False, limit, after)
        page = await limited(
            request, principal, lambda: services.rib.adj_rib(principal, neighbor_id, table, query)
        )
        return _public(page)


_adj(Table.ADJ_IN, "/v1/neighbors/{neighbor_id}/rib-in", "Routes received from the neighbor")
_adj(Table.ADJ_OUT, "/v1/neighbors/{neighbor_id}/rib-out", "Routes sent to the neighbor")
