"""Routes for the resources a router owns (defined sets, policies, attachments,
announcements), built once from a description of each."""

# No `from __future__ import annotations`: FastAPI must see the per-resource body
# models, which are local variables, as real annotations.

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import pydantic
from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from sdwan.api.deps import IfMatchDep, PrincipalDep, Services, ServicesDep, etag
from sdwan.domain import conditions
from sdwan.errors import InvalidInput
from sdwan.schemas.common import BulkOf, ListOf, public_conditions
from sdwan.service.common import ListQuery
from sdwan.service.owned import OwnedService, R
from sdwan.store.records import OwnedRecord

_PAGING = {"limit", "offset", "sort"}
MAX_BULK_ITEMS = 1000  # each item is checked against the store: bounded work per request


@dataclass(frozen=True)
class OwnedResource(Generic[R]):
    path: str  # "/v1/policies"
    kind: str  # "policy"
    service: Callable[[Services], OwnedService[R]]
    create: type[BaseModel]
    update: type[BaseModel]
    public: type[BaseModel]
    filters: tuple[str, ...]  # query filters besides router and status


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or not low <= int(text) <= high:
        raise InvalidInput(f"{name}: must be a whole number from {low} to {high}", field=name)
    return int(text)


def build_router(resource: OwnedResource[Any]) -> APIRouter:
    router = APIRouter(prefix=resource.path, tags=[resource.kind])
    public, create_model, update_model = resource.public, resource.create, resource.update
    allowed = {"router", "status", *resource.filters}

    def to_public(services: Services, rows: Sequence[OwnedRecord]) -> list[Any]:
        names = services.neighbors.router_names({r.router_uuid for r in rows})
        spec = resource.service(services).spec
        out = []
        for row in rows:
            data = spec.to_api(row.row())
            fields = {k: data[k] for k in public.model_fields if k in data and k != "conditions"}
            out.append(
                public(
                    **{
                        **fields,
                        "conditions": public_conditions(conditions.shown(row)),
                        "router": row.router_uuid,
                        "router_name": names.get(row.router_uuid, ""),
                    }
                )
            )
        return out

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=public,
        summary=f"Create a {resource.kind}",
    )
    def create(
        body: create_model,  # type: ignore[valid-type]
        principal: PrincipalDep,
        services: ServicesDep,
        response: Response,
    ) -> Any:
        (row,) = resource.service(services).create_many(principal, items=[body])
        response.headers["ETag"] = etag(row.version)
        response.headers["Location"] = f"{resource.path}/{row.id}"
        return to_public(services, [row])[0]

    Bulk = pydantic.create_model(
        f"{create_model.__name__}Bulk",
        __config__=ConfigDict(extra="forbid"),
        items=(
            list[create_model],  # type: ignore[valid-type]
            Field(min_length=1, max_length=MAX_BULK_ITEMS, description="all or nothing"),
        ),
    )

    @router.post(
        "/bulk",
        status_code=status.HTTP_201_CREATED,
        response_model=BulkOf[public],  # type: ignore[valid-type]
        summary=f"Create many {resource.kind} objects in one transaction",
    )
    def create_bulk(body: Bulk, principal: PrincipalDep, services: ServicesDep) -> Any:  # type: ignore[valid-type]
        rows = resource.service(services).create_many(
            principal,
            items=body.items,  # type: ignore[attr-defined]
        )
        return {"items": to_public(services, rows), "total": len(rows)}

    @router.get(
        "",
        response_model=ListOf[public],  # type: ignore[valid-type]
        summary=f"List {resource.kind} objects",
    )
    def list_all(request: Request, principal: PrincipalDep, services: ServicesDep) -> Any:
        unknown = set(request.query_params) - allowed - _PAGING
        if unknown:
            raise InvalidInput(
                f"unknown filter {sorted(unknown)[0]!r}; filters: {', '.join(sorted(allowed))}",
                field=sorted(unknown)[0],
            )
        filters = {k: v for k, v in request.query_params.items() if k in allowed}
        limit = _int(request, "limit", 50, 1, 1000)
        offset = _int(request, "offset", 0, 0, 10**9)
        query = ListQuery(filters, request.query_params.get("sort"), limit, offset)
        page = resource.service(services).list(principal, query)
        return {
            "items": to_public(services, page.items),
            "total": page.total,
            "limit": limit,
            "offset": offset,
        }

    @router.get("/{row_id}", response_model=public, summary=f"Show a {resource.kind}")
    def show(
        row_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
    ) -> Any:
        row, _router = resource.service(services).get(principal, row_id)
        response.headers["ETag"] = etag(row.version)
        return to_public(services, [row])[0]

    @router.patch("/{row_id}", response_model=public, summary=f"Change a {resource.kind}")
    def patch(
        row_id: str,
        body: update_model,  # type: ignore[valid-type]
        principal: PrincipalDep,
        services: ServicesDep,
        if_match: IfMatchDep,
        response: Response,
    ) -> Any:
        written = resource.service(services).update(
            principal, row_id, changes=body, if_match=if_match
        )
        response.headers["ETag"] = etag(written.record.version)
        return to_public(services, [written.record])[0]

    @router.delete(
        "/{row_id}",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=public,
        summary=f"Delete a {resource.kind}",
    )
    def remove(
        row_id: str, principal: PrincipalDep, services: ServicesDep, if_match: IfMatchDep
    ) -> Any:
        row = resource.service(services).delete(principal, row_id, if_match=if_match)
        return to_public(services, [row])[0]

    return router
