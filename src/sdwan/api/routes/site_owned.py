"""Routes for the resources of the intent layer (sites, uplinks, intents), built once
from a description of each, as routes/owned.py builds the policy objects': create
(201, ETag, Location), list (declared filters, paging), show (ETag), patch (If-Match,
ETag, warnings), delete (If-Match)."""

# No `from __future__ import annotations`: FastAPI must see the per-resource body
# models, which are local variables, as real annotations.

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, Response
from pydantic import BaseModel

from sdwan.api.deps import IfMatchDep, PrincipalDep, Services, ServicesDep, etag
from sdwan.api.queries import LimitQuery, OffsetQuery
from sdwan.auth.principal import Principal
from sdwan.schemas.common import ListOf, Patch
from sdwan.service.common import ListQuery, Page, Written


class Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


class View(Protocol):
    """What the services answer with: a record and what goes with it (SiteInfo...)."""

    @property
    def record(self) -> Versioned: ...


ViewT = TypeVar("ViewT", bound=View)


class Service(Protocol[ViewT]):
    """SiteService, UplinkService, IntentService."""

    def create(self, principal: Principal, body: Any, /) -> ViewT: ...

    def get(self, principal: Principal, ident: str) -> ViewT: ...

    def list(self, principal: Principal, query: ListQuery) -> Page[ViewT]: ...

    def update(
        self, principal: Principal, ident: str, *, changes: Any, if_match: int | None
    ) -> Written[ViewT]: ...

    def delete(self, principal: Principal, ident: str, *, if_match: int | None) -> ViewT: ...


@dataclass(frozen=True)
class SiteResource(Generic[ViewT]):
    path: str  # "/v1/uplinks"
    tag: str  # "uplinks"
    name: str  # "uplink": its operations are create_uplink, list_uplinks, show_uplink...
    ident: str  # the path parameter: "uplink_id" ("key" for a site: its id or name)
    service: Callable[[Services], Service[ViewT]]
    create: type[BaseModel]
    update: type[Patch]
    public: type[BaseModel]
    to_public: Callable[[ViewT, list[str]], BaseModel]  # (view, warnings) -> answer
    filters: tuple[str, ...]  # query filters (str), after limit, offset and sort
    docs: dict[str, str]  # operation (create, list, show, update, delete) -> what it does


def _declared(endpoint: Callable[..., Any], params: list[inspect.Parameter]) -> Any:
    """``endpoint`` as FastAPI reads it: with ``params`` as its signature."""
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return endpoint


def _param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def build_router(resource: SiteResource[Any]) -> APIRouter:
    router = APIRouter(prefix=resource.path, tags=[resource.tag])
    name, plural, docs = resource.name, resource.tag, resource.docs
    ident = _param(resource.ident, str)
    principal_p, services_p = _param("principal", PrincipalDep), _param("services", ServicesDep)
    response_p, if_match_p = _param("response", Response), _param("if_match", IfMatchDep)

    def answered(view: Any, response: Response | None, warnings: list[str]) -> BaseModel:
        if response is not None:
            response.headers["ETag"] = etag(view.record.version)
        return resource.to_public(view, warnings)

    def create(
        body: BaseModel, principal: Principal, services: Services, response: Response
    ) -> Any:
        view = resource.service(services).create(principal, body)
        response.headers["Location"] = f"{resource.path}/{view.record.id}"
        return answered(view, response, [])

    def list_all(principal: Principal, services: Services, **query: Any) -> Any:
        filters = {k: v for k, v in query.items() if k in resource.filters and v is not None}
        limit, offset = query["limit"], query["offset"]
        page = resource.service(services).list(
            principal, ListQuery(filters, query["sort"], limit, offset)
        )
        items = [resource.to_public(view, []) for view in page.items]
        return {"items": items, "total": page.total, "limit": limit, "offset": offset}

    def show(principal: Principal, services: Services, response: Response, **key: str) -> Any:
        view = resource.service(services).get(principal, key[resource.ident])
        return answered(view, response, [])

    def update(
        body: Patch,
        principal: Principal,
        services: Services,
        if_match: int | None,
        response: Response,
        **key: str,
    ) -> Any:
        written = resource.service(services).update(
            principal, key[resource.ident], changes=body, if_match=if_match
        )
        return answered(written.record, response, written.warnings)

    def delete(principal: Principal, services: Services, if_match: int | None, **key: str) -> Any:
        view = resource.service(services).delete(principal, key[resource.ident], if_match=if_match)
        return answered(view, None, [])

    for endpoint, operation in ((create, "create"), (list_all, "list"), (show, "show"),
                                (update, "update"), (delete, "delete")):  # fmt: skip
        endpoint.__doc__ = docs[operation]
    router.post("", status_code=201, response_model=resource.public, name=f"create_{name}")(
        _declared(create, [_param("body", resource.create), principal_p, services_p, response_p])
    )
    router.get("", response_model=ListOf[resource.public], name=f"list_{plural}")(  # type: ignore[name-defined]
        _declared(
            list_all,
            [
                principal_p,
                services_p,
                _param("limit", LimitQuery, 50),
                _param("offset", OffsetQuery, 0),
                _param("sort", str | None, None),
                *(_param(f, str | None, None) for f in resource.filters),
            ],
        )
    )
    key = f"/{{{resource.ident}}}"
    router.get(key, response_model=resource.public, name=f"show_{name}")(
        _declared(show, [ident, principal_p, services_p, response_p])
    )
    router.patch(key, response_model=resource.public, name=f"update_{name}")(
        _declared(
            update,
            [
                ident,
                _param("body", resource.update),
                principal_p,
                services_p,
                if_match_p,
                response_p,
            ],
        )
    )
    router.delete(key, response_model=resource.public, name=f"delete_{name}")(
        _declared(delete, [ident, principal_p, services_p, if_match_p])
    )
    return router
