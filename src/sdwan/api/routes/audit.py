"""/v1/audit: who changed what, newest first. Admins see all, others their project."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.api.queries import OffsetQuery, Time, parse_time
from sdwan.service.audit import AuditQuery

router = APIRouter(tags=["audit"])


@router.get("/v1/audit")
def list_audit(
    principal: PrincipalDep,
    services: ServicesDep,
    actor: Annotated[str | None, Query(description="who (user or token name)")] = None,
    project: Annotated[str | None, Query()] = None,
    resource_type: Annotated[str | None, Query(description="router, neighbor, user...")] = None,
    resource_id: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query(description="create, update, delete, login...")] = None,
    since: Annotated[str | None, Time(description="ISO 8601 with a time zone, inclusive")] = None,
    until: Annotated[str | None, Time(description="ISO 8601 with a time zone, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    query = AuditQuery(
        actor,
        project,
        resource_type,
        resource_id,
        action,
        parse_time("since", since),
        parse_time("until", until),
    )
    page = services.audit.list(principal, query, limit=limit, offset=offset)
    return {"items": page.items, "total": page.total, "limit": limit, "offset": offset}
