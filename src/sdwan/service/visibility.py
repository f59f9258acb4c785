"""What a caller may see, read one way by every service.

A router or a site belongs to a project; a principal bound to a project sees only
that project's. Other rows hang off one of them (an *owner*): neighbors and the
policy objects off a router (their ``router_uuid``), uplinks and intents off a site
(their ``site_id``), and are visible exactly when their owner is. Three reads follow:

- one owner by key (an id or a name): ``visible_owner`` (404, or 422 naming the field
  that referred to it);
- a list filtered by its owner (``?router=R1``): ``owner_filter`` turns the key into
  the owner's id under the column the store filters by (422 naming the filter);
- one owned row: ``visible_owned`` (404 naming the row's kind, whether the row or its
  owner is missing or the owner is another project's).

Every list is scoped one way (``list_scope``, then ``visible_page``): the owner it is
filtered by resolved as above, the rows of the caller's project only, an admin's
project filter applied; a list filtered by another project than the caller's is
empty. An unknown key and one the caller may not see answer alike, so that names in
other projects do not leak."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.errors import InvalidInput, NotFound, SdwanError
from sdwan.service.common import ListQuery, Page
from sdwan.service.uow import reading
from sdwan.store import intent_repo, repo
from sdwan.store.intent_repo import SiteRecord
from sdwan.store.records import RouterRecord


class InProject(Protocol):
    """A record of one project that other rows may hang off (a router, a site)."""

    @property
    def id(self) -> str: ...

    @property
    def project_id(self) -> str: ...


OwnerT = TypeVar("OwnerT", bound=InProject)
RowT = TypeVar("RowT")  # a row an owner holds
ViewT = TypeVar("ViewT")  # what a list answers with for a row


@dataclass(frozen=True)
class Owner(Generic[OwnerT]):
    """A kind of record other rows hang off."""

    kind: str  # "router": the filter's name and the word in messages
    column: str  # "router_uuid": the owned rows' column naming it, the store's filter
    get: Callable[[Connection, str], OwnerT | None]  # by id or by name


ROUTER: Owner[RouterRecord] = Owner(
    "router", "router_uuid", lambda conn, key: repo.get_router(conn, key=key)
)
SITE: Owner[SiteRecord] = Owner(
    "site", "site_id", lambda conn, key: intent_repo.get_site(conn, key=key)
)


def may_see(principal: Principal, record: InProject) -> bool:
    """Admins see every project; anyone else only its own."""
    return principal.project_id is None or record.project_id == principal.project_id


def asks_other_project(principal: Principal, wanted: str | None) -> bool:
    """A list filtered by project (``wanted``; None: not filtered) that a caller bound
    to another project asks for: it sees nothing of it (an empty page, not an error)."""
    return principal.project_id is not None and wanted not in (None, principal.project_id)


def unknown(owner: Owner[Any], key: str, *, field: str | None = None) -> SdwanError:
    """The answer for a key that names no owner the caller may see: 404, or with
    ``field`` (the key came in a request body or a filter) 422 naming that field."""
    if field is not None:
        return InvalidInput(f"{field}: no {owner.kind} {key!r}", field=field)
    return NotFound(f"{owner.kind} {key!r} not found")


def visible_owner(
    conn: Connection,
    principal: Principal,
    owner: Owner[OwnerT],
    key: str,
    *,
    field: str | None = None,
) -> OwnerT:
    """The router or site ``key`` (an id or a name) names, if the caller may see it;
    ``unknown`` otherwise: ``visible_owner(conn, principal, SITE, values["site"],
    field="site")``."""
    record = owner.get(conn, key)
    if record is None or not may_see(principal, record):
        raise unknown(owner, key, field=field)
    return record


def owner_filter(
    conn: Connection, principal: Principal, owner: Owner[Any], filters: Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of a list's ``filters`` in which the owner named by key (``router``: an
    id or a name) is replaced by its id under the owned rows' column
    (``router_uuid``), for the store; 422 naming the filter when the caller may not
    see it. Without that filter, the copy as it was. For every "router"-owned list
    (neighbors, the policy objects) ``owner_filter(conn, principal, ROUTER, filters)``;
    for uplinks and intents ``SITE``."""
    resolved = dict(filters)
    if owner.kind in resolved:
        key = resolved.pop(owner.kind)
        resolved[owner.column] = visible_owner(conn, principal, owner, key, field=owner.kind).id
    return resolved


def visible_owned(
    conn: Connection,
    principal: Principal,
    owner: Owner[OwnerT],
    row: RowT | None,
    owner_id: Callable[[RowT], str],
    *,
    kind: str,
    ident: str,
) -> tuple[RowT, OwnerT]:
    """``row`` (as the store found it by ``ident``, or None) with its owner, when the
    caller may see that owner; else 404 ``{kind} {ident!r} not found``, the same
    whether the row or its owner is missing or the owner is another project's. For a
    neighbor: ``visible_owned(conn, principal, ROUTER, repo.get_neighbor(conn,
    neighbor_id=ident), lambda n: n.router_uuid, kind="neighbor", ident=ident)``; a
    router-owned policy object the same with its row and ``kind`` (e.g. "defined
    set")."""
    if row is not None:
        record = owner.get(conn, owner_id(row))
        if record is not None and may_see(principal, record):
            return row, record
    raise NotFound(f"{kind} {ident!r} not found")


@dataclass(frozen=True)
class Scope:
    """A list as the store filters it: ``filters`` by column (the owner's key
    resolved to its id), ``project_id`` the one project whose rows it may hold (None:
    every project, for an admin who named none)."""

    filters: dict[str, Any]
    project_id: str | None

    def store_args(self, query: ListQuery) -> dict[str, Any]:
        """The keyword arguments every store/ list function takes."""
        return {
            "filters": self.filters,
            "project_id": self.project_id,
            "sort": query.sort,
            "limit": query.limit,
            "offset": query.offset,
        }


def list_scope(
    conn: Connection, principal: Principal, filters: Mapping[str, Any], owner: Owner[Any] | None
) -> Scope | None:
    """How a list of rows hanging off ``owner`` (None: rows of a project themselves,
    routers and sites) is scoped for ``principal``; None when the caller asked for
    another project's rows (an empty page, not an error)."""
    resolved = owner_filter(conn, principal, owner, filters) if owner else dict(filters)
    wanted = resolved.pop("project_id", None)
    if asks_other_project(principal, wanted):
        return None
    return Scope(resolved, principal.project_id or wanted)


def visible_page(
    engine: Engine,
    principal: Principal,
    query: ListQuery,
    owner: Owner[Any] | None,
    rows: Callable[[Connection, Scope], tuple[list[RowT], int]],
    views: Callable[[Connection, list[RowT]], list[ViewT]],
) -> Page[ViewT]:
    """The one list skeleton: ``query`` scoped for the caller, ``rows`` read from the
    store (``lambda conn, scope: repo.list_x(conn, **scope.store_args(query))``), each
    answered as ``views`` makes it (in the same read)."""
    with reading(engine) as conn:
        scope = list_scope(conn, principal, query.filters, owner)
        if scope is None:
            return Page.of([], 0, query)
        found, total = rows(conn, scope)
        return Page.of(views(conn, found), total, query)
