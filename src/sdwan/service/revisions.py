"""Reading the revision log: a page of revisions (filtered by router, site, project,
author, source, time), one revision with its changes and their diff. A reader bound to
a project sees the revisions that changed its project's objects, and of those only
its own changes. Secrets never leave: a password is "set" or null, and a change of one
shows as "changed"."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.errors import InvalidInput, NotFound, SdwanError
from sdwan.service.common import Page
from sdwan.service.revision_log import stored_state
from sdwan.service.uow import reading
from sdwan.service.visibility import ROUTER, SITE, Owner, asks_other_project, may_see
from sdwan.store import revision_repo
from sdwan.store.object_state import SET, ObjectState
from sdwan.store.revision_repo import ChangeRecord, ChangeScope, RevisionRecord

CHANGED = "changed"  # a secret written again (its value is never compared or shown)
_HIDDEN = frozenset({"id", "router_uuid", "site_id", "project_id"})  # the change names them


@dataclass(frozen=True)
class RevisionQuery:
    router: str | None = None  # an id or a name (also of a router deleted since)
    site: str | None = None
    project: str | None = None  # an admin's filter
    author: str | None = None
    source: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class ChangeView:
    record: ChangeRecord
    fields: dict[str, list[Any]]  # field -> [before, after], secrets as set/changed/null


@dataclass(frozen=True)
class RevisionView:
    record: RevisionRecord
    change_count: int  # the changes the caller may see
    changes: list[ChangeView] = field(default_factory=list)


class RevisionService:
    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    def list(
        self, principal: Principal, query: RevisionQuery, *, limit: int, offset: int
    ) -> Page[RevisionView]:
        """Newest first."""
        with reading(self._engine) as conn:
            if asks_other_project(principal, query.project):
                return Page([], 0, limit, offset)
            scope = self.scope(
                conn,
                principal,
                routers=[query.router] if query.router else None,
                sites=[query.site] if query.site else None,
                project=query.project,
            )
            found, total = revision_repo.list_revisions(
                conn,
                scope=scope,
                author=query.author,
                source=query.source,
                since=query.since,
                limit=limit,
                offset=offset,
            )
            counts = revision_repo.change_counts(
                conn, numbers=[r.number for r in found], scope=scope
            )
        return Page([RevisionView(r, counts.get(r.number, 0)) for r in found], total, limit, offset)

    def get(self, principal: Principal, number: int) -> RevisionView:
        """One revision with the changes the caller may see; 404 if it may see none."""
        with reading(self._engine) as conn:
            record = revision_repo.get_revision(conn, number=number)
            scope = ChangeScope(project_id=principal.project_id)
            changes = revision_repo.changes_of(conn, numbers=[number], scope=scope)
        if record is None or not changes:
            raise NotFound(f"revision {number} not found")
        views = [ChangeView(c, diff(c)) for c in changes]
        return RevisionView(record, len(views), views)

    def latest(self, principal: Principal) -> int:
        """The newest revision with a change the caller may see (0: none)."""
        with reading(self._engine) as conn:
            return revision_repo.latest_number(
                conn, scope=ChangeScope(project_id=principal.project_id)
            )

    def scope(
        self,
        conn: Connection,
        principal: Principal,
        *,
        routers: Collection[str] | None = None,
        sites: Collection[str] | None = None,
        project: str | None = None,
    ) -> ChangeScope:
        """The changes the caller may see, of these routers and sites (ids or names;
        422 naming ``router``/``site`` for one it may not see), of ``project`` (an
        admin's filter)."""
        return ChangeScope(
            project_id=principal.project_id or project,
            router_ids=_owner_ids(conn, principal, ROUTER, routers),
            site_ids=_owner_ids(conn, principal, SITE, sites),
        )


def _owner_ids(
    conn: Connection, principal: Principal, owner: Owner[Any], keys: Collection[str] | None
) -> set[str] | None:
    """The ids of the routers (or sites) ``keys`` name: as they are now, or as the
    revision log last named them (one deleted since)."""
    if keys is None:
        return None
    ids: set[str] = set()
    for key in keys:
        record = owner.get(conn, key)
        if record is not None and may_see(principal, record):
            ids.add(record.id)
            continue
        known = revision_repo.object_names(
            conn, kind=owner.kind, key=key, project_id=principal.project_id
        )
        if not known:
            raise _unknown(owner, key)
        ids.update(known)
    return ids


def _unknown(owner: Owner[Any], key: str) -> SdwanError:
    return InvalidInput(f"{owner.kind}: no {owner.kind} {key!r}", field=owner.kind)


def diff(change: ChangeRecord) -> dict[str, list[Any]]:
    """Field -> [before, after] for what a recorded change changed."""
    return state_diff(
        stored_state(change.before, change.sealed, "before"),
        stored_state(change.after, change.sealed, "after"),
    )


def state_diff(before: ObjectState | None, after: ObjectState | None) -> dict[str, list[Any]]:
    """Field -> [before, after] for what differs (every field set of an object created
    or deleted); a secret is "set", "changed" or null, never its value."""
    old_values = before.values if before is not None else {}
    new_values = after.values if after is not None else {}
    out: dict[str, list[Any]] = {}
    for name in [*old_values, *(k for k in new_values if k not in old_values)]:
        if name in _HIDDEN:
            continue
        old, new = old_values.get(name), new_values.get(name)
        if old == SET and new == SET and before is not None and after is not None:
            if before.sealed.get(name) != after.sealed.get(name):
                out[name] = [SET, CHANGED]
        elif old != new:
            out[name] = [old, new]
    return out
