"""/v1/revisions: the revision log (every committed change to the desired state) and
rollback to a revision (docs/revisions.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from sdwan.api.deps import DryRunQuery, IfMatchDep, PrincipalDep, ServicesDep, etag
from sdwan.api.limits import limited
from sdwan.api.queries import LimitQuery, OffsetQuery, Time, parse_time
from sdwan.api.routes.fleet import FleetChange
from sdwan.schemas.common import Input
from sdwan.service.revisions import ChangeView, RevisionQuery, RevisionView

router = APIRouter(prefix="/v1/revisions", tags=["revisions"])

MAX_NUMBER = 2**62
Number = Annotated[int, Path(ge=1, le=MAX_NUMBER, description="the revision's number")]


class ChangePublic(BaseModel):
    kind: str = Field(description="router, neighbor, defined_set, policy, ..., site, intent")
    id: str
    name: str = Field(description="router/key (or site/name) as it was named then")
    action: str = Field(description="create, update or delete")
    router: str | None = Field(description="the id of the router it belongs to")
    site: str | None = Field(description="the id of the site it belongs to")
    project: str | None
    fields: dict[str, list[Any]] = Field(
        description="field -> [before, after]; a secret is 'set', 'changed' or null"
    )
    before: dict[str, Any] | None = Field(description="its state before; null: none")
    after: dict[str, Any] | None = Field(description="its state after; null: deleted")


class RevisionPublic(BaseModel):
    number: int
    at: datetime
    author: str
    author_role: str
    source: str = Field(description="api, fleet or rollback")
    message: str
    rollback_of: int | None = Field(description="source rollback: the revision restored")
    change_count: int = Field(description="the changes you may see")
    changes: list[ChangePublic] = Field(
        default_factory=list, description="GET /v1/revisions/{number} only"
    )


class RevisionPage(BaseModel):
    items: list[RevisionPublic]
    total: int
    limit: int
    offset: int
    latest: int = Field(description="the newest revision you may see (0: none); If-Match")


class RollbackRequest(Input):
    routers: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list,
        max_length=1000,
        description="only the objects of these routers (ids or names)",
    )
    sites: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list, max_length=1000, description="only those of these sites"
    )


class RollbackResult(BaseModel):
    changes: list[FleetChange]
    effects: list[str]
    applied: bool
    dry_run: bool
    rollback_of: int
    latest: int = Field(description="the newest revision the plan saw: send it as If-Match")
    revision: int | None = Field(description="applied: the revision it made")


def _change(view: ChangeView) -> ChangePublic:
    c = view.record
    return ChangePublic(
        kind=c.kind,
        id=c.object_id,
        name=c.name,
        action=c.action,
        router=c.router_id,
        site=c.site_id,
        project=c.project_id,
        fields=view.fields,
        before=c.before,
        after=c.after,
    )


def _revision(view: RevisionView) -> RevisionPublic:
    r = view.record
    return RevisionPublic(
        number=r.number,
        at=r.at,
        author=r.author,
        author_role=r.author_role,
        source=r.source,
        message=r.message,
        rollback_of=r.rollback_of,
        change_count=view.change_count,
        changes=[_change(c) for c in view.changes],
    )


@router.get("")
def list_revisions(
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
    router_key: Annotated[
        str | None, Query(alias="router", description="a router's id or name")
    ] = None,
    site: Annotated[str | None, Query(description="a site's id or name")] = None,
    project: Annotated[str | None, Query(description="admins: one project's")] = None,
    author: Annotated[str | None, Query(max_length=63)] = None,
    source: Annotated[str | None, Query(description="api, fleet or rollback")] = None,
    since: Annotated[str | None, Time(description="ISO 8601 with a time zone")] = None,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> RevisionPage:
    """The revisions that changed what you may see, newest first."""
    query = RevisionQuery(router_key, site, project, author, source, parse_time("since", since))
    page = services.revisions.list(principal, query, limit=limit, offset=offset)
    latest = services.revisions.latest(principal)
    response.headers["ETag"] = etag(latest)
    return RevisionPage(
        items=[_revision(v) for v in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
        latest=latest,
    )


@router.get("/{number}")
def get_revision(number: Number, principal: PrincipalDep, services: ServicesDep) -> RevisionPublic:
    """One revision with its changes and their diff (secrets never shown)."""
    return _revision(services.revisions.get(principal, number))


@router.post("/{number}/rollback")
async def rollback(
    number: Number,
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    if_match: IfMatchDep,
    response: Response,
    dry_run: DryRunQuery = False,
    body: RollbackRequest | None = None,
) -> RollbackResult:
    """Bring what you may see (of some routers or sites) back to its state right after
    revision ``number``: planned (``dry_run``, with the sessions it resets), then
    applied as a new revision. If-Match: the ``latest`` the plan saw (412 if anything
    changed since); 410 when retention removed the revision."""
    scope = body or RollbackRequest()

    def run() -> dict[str, Any]:
        return services.restore.rollback(
            principal,
            number,
            routers=scope.routers or None,
            sites=scope.sites or None,
            dry_run=dry_run,
            if_match=if_match,
        )

    result = await limited(request, principal, run, reads_routers=False, dry_run=dry_run)
    response.headers["ETag"] = etag(result["latest"])
    return RollbackResult(**result)
