"""/v1/routers"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from sdwan.api.bulk_json import bulk_created
from sdwan.api.deps import DryRunQuery, IfMatchDep, PrincipalDep, ServicesDep, etag
from sdwan.api.queries import AsnQuery, LimitQuery, OffsetQuery
from sdwan.domain import conditions
from sdwan.schemas.common import BulkOf, ListOf, public_conditions
from sdwan.schemas.live import RouterLive
from sdwan.schemas.routers import (
    RouterBulkCreate,
    RouterCreate,
    RouterPublic,
    RouterUpdate,
    RouterWritten,
)
from sdwan.service.common import ListQuery
from sdwan.store.records import RouterRecord

router = APIRouter(prefix="/v1/routers", tags=["routers"])


# the fields copied from the record as they are (once here, not for each of a bulk)
_COPIED = tuple(
    k
    for k in RouterPublic.model_fields
    if k not in {"warnings", "conditions", *RouterLive.model_fields}
)


def public(
    record: RouterRecord,
    warnings: list[str] | None = None,
    live: Mapping[str, Any] | None = None,
) -> RouterPublic:
    fields = {k: getattr(record, k) for k in _COPIED}
    reachable = conditions.reachable(live or {})
    shown = [*conditions.shown(record), *([reachable] if reachable else [])]
    return RouterPublic(
        **fields,
        **(live or {}),
        conditions=public_conditions(shown),
        warnings=warnings or [],
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_router(
    body: RouterCreate, principal: PrincipalDep, services: ServicesDep, response: Response
) -> RouterPublic:
    """Declare a router (a gobgpd to manage)."""
    (record,) = services.routers.create_many(principal, items=[body])
    response.headers["ETag"] = etag(record.version)
    response.headers["Location"] = f"/v1/routers/{record.id}"
    return public(record)


@router.post("/bulk", status_code=status.HTTP_201_CREATED, response_model=BulkOf[RouterPublic])
def create_routers(
    body: RouterBulkCreate, principal: PrincipalDep, services: ServicesDep
) -> Response:
    """Declare many routers in one transaction: all or nothing."""
    records = services.routers.create_many(principal, items=body.items)
    return bulk_created(records, public, RouterPublic)


@router.get("")
def list_routers(
    principal: PrincipalDep,
    services: ServicesDep,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
    sort: str | None = None,
    name: str | None = None,
    asn: AsnQuery = None,
    router_id: str | None = None,
    status: str | None = None,
    project: Annotated[str | None, Query(description="only this project's routers")] = None,
) -> ListOf[RouterPublic]:
    """List routers: filters, sorting (`sort=-asn,name`), paging with a total."""
    filters = {
        k: v
        for k, v in {
            "name": name,
            "asn": asn,
            "router_id": router_id,
            "status": status,
            "project_id": project,
        }.items()
        if v is not None
    }
    page = services.routers.list(principal, ListQuery(filters, sort, limit, offset))
    states = services.live.routers(r.id for r in page.items)
    return ListOf[RouterPublic](
        items=[public(r, live=states[r.id]) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/{key}")
def show_router(
    key: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> RouterPublic:
    """One router, by id or name, with its gobgpd's reachability."""
    record = services.routers.get(principal, key)
    response.headers["ETag"] = etag(record.version)
    return public(record, live=services.live.routers([record.id])[record.id])


@router.patch("/{key}")
def update_router(
    key: str,
    body: RouterUpdate,
    principal: PrincipalDep,
    services: ServicesDep,
    if_match: IfMatchDep,
    response: Response,
    dry_run: DryRunQuery = False,
) -> RouterPublic:
    """Change some fields; a change of asn, router_id or listen settings restarts BGP."""
    if dry_run:
        with services.routers.dry_run():
            written = services.routers.update(principal, key, changes=body, if_match=if_match)
        return public(written.record, written.warnings)
    written = services.routers.update(principal, key, changes=body, if_match=if_match)
    response.headers["ETag"] = etag(written.record.version)
    return public(written.record, written.warnings)


@router.delete("/{key}", status_code=status.HTTP_202_ACCEPTED)
def delete_router(
    key: str,
    principal: PrincipalDep,
    services: ServicesDep,
    if_match: IfMatchDep,
    cascade: bool = False,
    force: bool = False,
) -> RouterPublic | RouterWritten:
    """Delete: BGP is stopped on its gobgpd, then the router is gone."""
    written = services.routers.delete(
        principal, key, cascade=cascade, force=force, if_match=if_match
    )
    if written.record is None:
        return RouterWritten(deleted=True, warnings=written.warnings)
    return public(written.record, written.warnings)
