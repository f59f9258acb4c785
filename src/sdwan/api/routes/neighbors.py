"""/v1/neighbors"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from sdwan.api.bulk_json import bulk_created
from sdwan.api.deps import DryRunQuery, IfMatchDep, PrincipalDep, ServicesDep, etag
from sdwan.api.queries import AsnQuery, LimitQuery, OffsetQuery
from sdwan.domain import conditions
from sdwan.domain.values import check_ip
from sdwan.errors import InvalidInput
from sdwan.schemas.common import BulkOf, ListOf, public_conditions
from sdwan.schemas.live import SessionLive
from sdwan.schemas.neighbors import (
    NeighborBulkCreate,
    NeighborCreate,
    NeighborPublic,
    NeighborUpdate,
)
from sdwan.service.common import ListQuery
from sdwan.service.live import LiveService
from sdwan.store.records import NeighborRecord

router = APIRouter(prefix="/v1/neighbors", tags=["neighbors"])
_DERIVED = {"router", "router_name", "password_set", "warnings", "conditions"}
# the fields copied from the record as they are (once here, not for each of a bulk)
_COPIED = tuple(
    k
    for k in NeighborPublic.model_fields
    if k not in _DERIVED and k not in SessionLive.model_fields
)


def public(
    record: NeighborRecord,
    router_name: str,
    warnings: list[str] | None = None,
    live: Mapping[str, Any] | None = None,
) -> NeighborPublic:
    fields = {k: getattr(record, k) for k in _COPIED}
    return NeighborPublic(
        **fields,
        **(live or {}),
        conditions=public_conditions(conditions.shown(record)),
        router=record.router_uuid,
        router_name=router_name,
        password_set=record.password_sealed is not None,
        warnings=warnings or [],
    )


def _publics(
    services: ServicesDep, records: list[NeighborRecord], live: LiveService | None = None
) -> list[NeighborPublic]:
    names = services.neighbors.router_names({r.router_uuid for r in records})
    sessions = live.sessions(r.id for r in records) if live is not None else {}
    return [public(r, names.get(r.router_uuid, ""), live=sessions.get(r.id)) for r in records]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_neighbor(
    body: NeighborCreate, principal: PrincipalDep, services: ServicesDep, response: Response
) -> NeighborPublic:
    """Declare a BGP neighbor of a router."""
    (record,) = services.neighbors.create_many(principal, items=[body])
    response.headers["ETag"] = etag(record.version)
    response.headers["Location"] = f"/v1/neighbors/{record.id}"
    return _publics(services, [record])[0]


@router.post("/bulk", status_code=status.HTTP_201_CREATED, response_model=BulkOf[NeighborPublic])
def create_neighbors(
    body: NeighborBulkCreate, principal: PrincipalDep, services: ServicesDep
) -> Response:
    """Declare many neighbors in one transaction: all or nothing."""
    records = services.neighbors.create_many(principal, items=body.items)
    names = services.neighbors.router_names({r.router_uuid for r in records})
    return bulk_created(records, lambda r: public(r, names.get(r.router_uuid, "")), NeighborPublic)


@router.get("")
def list_neighbors(
    principal: PrincipalDep,
    services: ServicesDep,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
    sort: str | None = None,
    router: str | None = None,
    address: str | None = None,
    peer_asn: AsnQuery = None,
    status: str | None = None,
    enabled: bool | None = None,
    project: Annotated[str | None, Query(description="only this project's neighbors")] = None,
) -> ListOf[NeighborPublic]:
    """List neighbors: filters, sorting, paging with a total."""
    filters: dict[str, Any] = {
        k: v
        for k, v in {
            "router": router,
            "peer_asn": peer_asn,
            "status": status,
            "enabled": enabled,
            "project_id": project,
        }.items()
        if v is not None
    }
    if address is not None:
        try:
            filters["address"] = check_ip(address)
        except ValueError as exc:
            raise InvalidInput(f"address: {exc}", field="address") from None
    page = services.neighbors.list(principal, ListQuery(filters, sort, limit, offset))
    return ListOf[NeighborPublic](
        items=_publics(services, page.items, services.live),
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/{neighbor_id}")
def show_neighbor(
    neighbor_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> NeighborPublic:
    """One neighbor, by id, with its live session state."""
    record, owner = services.neighbors.get(principal, neighbor_id)
    response.headers["ETag"] = etag(record.version)
    return public(record, owner.name, live=services.live.sessions([record.id])[record.id])


@router.patch("/{neighbor_id}")
def update_neighbor(
    neighbor_id: str,
    body: NeighborUpdate,
    principal: PrincipalDep,
    services: ServicesDep,
    if_match: IfMatchDep,
    response: Response,
    dry_run: DryRunQuery = False,
) -> NeighborPublic:
    """Change some fields; warnings say when the change resets the session."""
    if dry_run:
        with services.neighbors.dry_run():
            written = services.neighbors.update(
                principal, neighbor_id, changes=body, if_match=if_match
            )
        return _publics(services, [written.record])[0].model_copy(
            update={"warnings": written.warnings}
        )
    written = services.neighbors.update(principal, neighbor_id, changes=body, if_match=if_match)
    response.headers["ETag"] = etag(written.record.version)
    _record, owner = services.neighbors.get(principal, neighbor_id)
    return public(written.record, owner.name, written.warnings)


@router.delete("/{neighbor_id}", status_code=status.HTTP_202_ACCEPTED)
def delete_neighbor(
    neighbor_id: str, principal: PrincipalDep, services: ServicesDep, if_match: IfMatchDep
) -> NeighborPublic:
    """Delete: the peer is removed from its gobgpd, then the neighbor is gone."""
    record = services.neighbors.delete(principal, neighbor_id, if_match=if_match)
    return _publics(services, [record])[0]
