"""What the services of rows a project owns directly (alert rules, webhooks) share:
the project a new row goes into, the row by id as the caller may see it, and the
writes (``insert``, ``write``, ``remove``), each with its resource event (audited in
the same transaction), as ``SiteOwnedService`` has them for a site's rows."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from sdwan.events.model import RESOURCE_CREATED, RESOURCE_DELETED, RESOURCE_UPDATED, Event
from sdwan.service.resource import ResourceService
from sdwan.service.uow import reading
from sdwan.service.visibility import InProject, may_see
from sdwan.store import identity_repo

_BOOKKEEPING = {"version", "updated_at"}


class ProjectRow(InProject, Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int: ...


FoundT = TypeVar("FoundT", bound=InProject)
RowT = TypeVar("RowT", bound=ProjectRow)
ViewT = TypeVar("ViewT")


def project_for_new(conn: Connection, principal: Principal, wanted: str | None, kind: str) -> str:
    """The project a new row goes into: the caller's own, or (admins) the one named;
    422 naming ``project`` when it does not exist, 403 for another project's."""
    if wanted is None:
        return principal.write_project
    if not principal.is_admin and wanted != principal.project_id:
        raise PermissionDenied(
            f"{principal.name} may create {kind}s only in project {principal.write_project}"
        )
    if not identity_repo.project_exists(conn, wanted):
        raise InvalidInput(f"project: no project {wanted!r}", field="project")
    return wanted


def visible_row(
    conn: Connection,
    principal: Principal,
    get: Callable[[Connection, str], FoundT | None],
    ident: str,
    kind: str,
) -> FoundT:
    """The row ``ident`` if the caller may see its project; 404 naming ``kind`` when it
    is missing or another project's (alike: names of other projects do not leak)."""
    row = get(conn, ident)
    if row is None or not may_see(principal, row):
        raise NotFound(f"{kind} {ident!r} not found")
    return row


class ProjectOwnedService(ResourceService[RowT, RowT, ViewT]):
    """A resource whose rows belong to a project: the store's calls for one row
    (``get_row``, ``insert_row``, ``update_row``, ``delete_row``) and how a page of rows
    is answered (``views``) are its own; reads and writes come with it."""

    resource_type: str  # "alert_rule": the events' and the audit log's name

    @abstractmethod
    def get_row(self, conn: Connection, ident: str) -> RowT | None: ...

    @abstractmethod
    def insert_row(self, conn: Connection, values: Mapping[str, Any]) -> None: ...

    @abstractmethod
    def update_row(self, conn: Connection, row: RowT, values: Mapping[str, Any]) -> bool: ...

    @abstractmethod
    def delete_row(self, conn: Connection, row: RowT) -> bool: ...

    def found(self, conn: Connection, principal: Principal, ident: str) -> tuple[RowT, RowT]:
        row = visible_row(conn, principal, self.get_row, ident, self.kind)
        return row, row

    def get(self, principal: Principal, ident: str) -> ViewT:
        with reading(self._engine) as conn:
            return self.view(conn, self.found(conn, principal, ident)[0])

    def view(self, conn: Connection, row: RowT) -> ViewT:
        return self.views(conn, [row])[0]

    def insert(self, conn: Connection, values: Mapping[str, Any]) -> RowT:
        """A new row (``values`` with its id, project and name), its event."""
        try:
            self.insert_row(conn, values)
        except IntegrityError:
            raise Conflict(f"{self.kind} {values['name']!r} was created concurrently") from None
        made = self.get_row(conn, values["id"])
        assert made is not None  # inserted in this transaction
        self._emit(RESOURCE_CREATED, made, version=1)
        return made

    def write(
        self, conn: Connection, row: RowT, values: Mapping[str, Any], if_match: int | None
    ) -> RowT:
        """``values`` over ``row`` (guarded by its version; none: nothing written), the
        row as stored, its event."""
        if not values:
            return row
        self.guarded(self.update_row(conn, row, values), row.name, if_match)
        updated = self.get_row(conn, row.id)
        assert updated is not None  # updated in this transaction
        self._emit(RESOURCE_UPDATED, updated, version=updated.version, changed=values)
        return updated

    def remove(self, conn: Connection, row: RowT, if_match: int | None) -> None:
        """``row`` deleted (guarded by its version), its event."""
        self.guarded(self.delete_row(conn, row), row.name, if_match)
        self._emit(RESOURCE_DELETED, row, version=row.version)

    def _emit(self, kind: str, row: RowT, *, version: int, changed: Iterable[str] = ()) -> None:
        """Field names only, never values: a secret may be among them."""
        verb = {RESOURCE_CREATED: "created", RESOURCE_UPDATED: "updated"}.get(kind, "deleted")
        fields = sorted({f.removesuffix("_sealed") for f in changed} - _BOOKKEEPING)
        text = f"{self.kind} {row.name} {verb}" + (f": {', '.join(fields)}" if fields else "")
        data = {"version": version, "changed": fields}
        # the name in the router column, as sites have theirs: what the audit log shows
        event = Event(kind, self.resource_type, row.id, row.name, text, data, row.project_id)
        self._events.emit([event])
