"""The skeleton of a resource service: what every one (routers, neighbors, the policy
objects, sites, uplinks, intents) has in common, written once, as NetBox's view sets
write the permission filter, the ETag check and the transaction once and leave each
model a few lines.

A service names its ``kind`` (the word in messages) and its ``owner`` (what its rows
hang off, for visibility: ``ROUTER``, ``SITE``, or None for rows of a project
themselves) and says how the store lists its rows (``rows``) and, if its answers are
more than the records, how a page of them is answered (``views``). It inherits:

- ``list(principal, query)``: one ``ListQuery``, scoped one way
  (``visibility.visible_page``);
- ``target(principal, ident, if_match)``: the start of every update and delete: the
  caller may write, one transaction, the row it may see (``found``, which the service
  says: its row and the router or site it hangs off), its If-Match checked;
- ``guarded(written, key, if_match)``: the one concurrent-change rule after a write
  guarded by the version read (412 with If-Match, 409 without);
- ``taking_along(conn, kind, ident)``: before a delete that takes the rows a router or
  site holds with it, so that the revision log records them too;
- ``dry_run()``: service calls inside run every check, then roll back.

Writes take the resource's create and patch bodies (schemas/), so its defaults and
what may change in place are declared once, in the schema; one write runs in one
``unit_of_work`` and tells the reconciler and the event log after the commit."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.service.common import ChangeNotifier, ListQuery, Page, check_version, require_written
from sdwan.service.resource_events import EventSink, NoEvents
from sdwan.service.uow import unit_of_work
from sdwan.service.visibility import Owner, Scope, visible_page
from sdwan.store import object_state


class Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


RecordT = TypeVar("RecordT", bound=Versioned)  # the stored form (store/records.py...)
OwnerT = TypeVar("OwnerT")  # the router or site a row hangs off (a router's, a site's: itself)
ViewT = TypeVar("ViewT")  # what the service answers with for one (the record, or a view)


class ResourceService(ABC, Generic[RecordT, OwnerT, ViewT]):
    kind: str  # "router": the word in messages
    owner: Owner[Any] | None = None  # what its rows hang off; None: they are in a project

    def __init__(
        self, *, engine: Engine, notifier: ChangeNotifier, events: EventSink | None = None
    ) -> None:
        """``notifier`` and ``events`` must defer to the commit (runtime wraps them in
        DeferredCalls): every write runs inside a unit of work."""
        self._engine = engine
        self._notifier = notifier
        self._events = events or NoEvents()

    @property
    def resource_type(self) -> str:
        """The kind as events, the audit log and the revision log name it
        ("policy attachment": ``policy_attachment``)."""
        return self.kind.lower().replace(" ", "_")

    @abstractmethod
    def found(self, conn: Connection, principal: Principal, ident: str) -> tuple[RecordT, OwnerT]:
        """The row ``ident`` names with its owner, if the caller may see it; 404 if not
        (``visibility.visible_owner`` / ``visible_owned``)."""

    @contextmanager
    def target(
        self,
        principal: Principal,
        ident: str,
        if_match: int | None,
        *,
        before_version: Callable[[RecordT], None] | None = None,
    ) -> Iterator[tuple[Connection, RecordT, OwnerT]]:
        """``with self.target(principal, ident, if_match) as (conn, row, owner):`` the
        start of every update and delete: 403 for a reader, one unit of work, 404 for a
        row the caller may not see, ``before_version`` (a check of the body against the
        stored row), 412 for a stale If-Match. The row's state before the write is kept
        for the revision log."""
        principal.require_write()
        with unit_of_work(self._engine) as work:
            row, owner = self.found(work.conn, principal, ident)
            if before_version is not None:
                before_version(row)
            check_version(kind=self.kind, key=ident, current=row.version, if_match=if_match)
            self._events.before_change(self.resource_type, [row.id])
            yield work.conn, row, owner

    def taking_along(self, conn: Connection, kind: str, ident: str) -> None:
        """Before deleting the router or site ``ident``: what its deletion takes with it
        (neighbors, policy objects, uplinks, intents, a site membership) is recorded in
        the revision as changed too."""
        for owned, ids in object_state.contents(conn, kind, ident).items():
            self._events.before_change(owned, ids, silent=True)

    @abstractmethod
    def rows(
        self, conn: Connection, scope: Scope, query: ListQuery
    ) -> tuple[builtins.list[RecordT], int]:
        """A page of rows as the store lists them: ``repo.list_x(conn,
        **scope.store_args(query))``."""

    def views(self, conn: Connection, rows: builtins.list[RecordT]) -> builtins.list[ViewT]:
        """How a page of rows is answered (in the same read); the records themselves
        unless the service answers with views."""
        return cast(builtins.list[ViewT], rows)

    def list(self, principal: Principal, query: ListQuery) -> Page[ViewT]:
        return visible_page(
            self._engine,
            principal,
            query,
            self.owner,
            lambda conn, scope: self.rows(conn, scope, query),
            self.views,
        )

    def guarded(self, written: bool, key: str, if_match: int | None) -> None:
        """After a write guarded by the version read: 412 (If-Match) or 409 when another
        request committed first."""
        require_written(written, kind=self.kind, key=key, if_match=if_match)

    def dry_run(self) -> AbstractContextManager[object]:
        """Service calls inside run every check and then roll back (nothing is kept,
        told to the reconciler or logged): what a change would do, before doing it."""
        return unit_of_work(self._engine, commit=False)
