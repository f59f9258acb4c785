"""One service for every resource a router owns by a key (a name, or a prefix):
defined sets, policies, attachments, announcements. An OwnedSpec says what differs:
the record kind (its table and key), the columns the API names otherwise, the rules
that need the store (references, conflicts). Writes take the API's bodies (the
create and patch schemas): the defaults and what may change in place are theirs."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.intent import strip_none
from sdwan.domain.status import DELETING, Status, status_after_update
from sdwan.errors import Conflict
from sdwan.schemas.common import Patch
from sdwan.service import resource_events as ev
from sdwan.service.common import (
    ChangeNotifier,
    ListQuery,
    Page,
    Written,
)
from sdwan.service.resource import ResourceService
from sdwan.service.resource_events import EventSink
from sdwan.service.uow import reading, unit_of_work
from sdwan.service.visibility import (
    ROUTER,
    Scope,
    may_see,
    unknown,
    visible_owned,
    visible_owner,
)
from sdwan.store import owned_rows, repo
from sdwan.store.records import OwnedRecord, RouterRecord

R = TypeVar("R", bound=OwnedRecord)

# (conn, router, values, where) -> None; raises InvalidInput/Conflict naming the field.
# ``values``: the object as it would be stored (its own columns and description).
RuleCheck = Callable[[Connection, RouterRecord, Mapping[str, Any], str], None]


class OwnedCreate(Protocol):
    """A create body of a router-owned object (schemas/policy.py: DefinedSetCreate...)."""

    @property
    def router(self) -> str: ...

    def model_dump(self, *, mode: str = "python") -> dict[str, Any]: ...


@dataclass(frozen=True)
class OwnedSpec(Generic[R]):
    kind: str  # "defined set", for messages
    record: type[R]  # the stored form: its table and key (unique per router)
    sortable: tuple[str, ...]
    check: RuleCheck | None = None
    # (conn, router, object) -> why something still refers to it, or None
    referenced: Callable[[Connection, RouterRecord, R], str | None] | None = None
    # (the object as stored, the changes asked for) -> the changes to make
    prepare: Callable[[R, dict[str, Any]], dict[str, Any]] | None = None
    # stored column -> the API's name for it, where they differ (a set's "type")
    api_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def key_field(self) -> str:
        return self.record.KEY

    def to_columns(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Values (or filters) by the API's names, by the store's."""
        columns = {api: column for column, api in self.api_names.items()}
        return {columns.get(k, k): v for k, v in values.items()}

    def to_api(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A stored row's values by the API's names (the fleet file's too)."""
        return {self.api_names.get(k, k): v for k, v in values.items()}

    def stored(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Body values as stored: by column, lists and objects without null members."""
        return {k: strip_none(v) for k, v in self.to_columns(values).items()}


class OwnedService(ResourceService[R, RouterRecord, R]):
    owner = ROUTER

    def __init__(
        self,
        spec: OwnedSpec[R],
        *,
        engine: Engine,
        notifier: ChangeNotifier,
        events: EventSink | None = None,
    ) -> None:
        super().__init__(engine=engine, notifier=notifier, events=events)
        self.spec = spec
        self.kind = spec.kind

    def _emit(self, kind: str, row: R, router: RouterRecord, changed: Any = ()) -> None:
        self._events.emit([ev.owned_event(kind, self.spec.kind, row, router, changed)])

    # --- create ----------------------------------------------------------------

    def create_many(
        self,
        principal: Principal,
        *,
        items: Sequence[OwnedCreate],
        ids: Sequence[str] | None = None,
    ) -> list[R]:
        """All or nothing. ``ids``: the new objects' ids (a rollback), else new ones."""
        principal.require_write()
        spec = self.spec
        with unit_of_work(self._engine) as work:
            conn = work.conn
            prefix = len(items) > 1
            stamp = repo.now()
            created: list[R] = []
            owners: dict[str, RouterRecord] = {}
            seen: dict[tuple[str, Any], int] = {}
            routers = repo.get_routers_by_keys(conn, keys={i.router for i in items})
            for index, item in enumerate(items):
                where = f"items[{index}]." if prefix else ""
                router = self._router(principal, routers.get(item.router), item.router, where)
                owners[router.id] = router
                values = spec.stored(item.model_dump(mode="json"))
                del values["router"]
                key = (router.id, values[spec.key_field])
                field = f"{where}{spec.key_field}"
                if key in seen:
                    raise Conflict(
                        f"{field}: {key[1]!r} appears twice for router {router.name} in this "
                        f"request (also items[{seen[key]}])",
                        field=field,
                    )
                seen[key] = index
                if owned_rows.get_by_key(conn, spec.record, router_id=router.id, key=key[1]):
                    raise Conflict(
                        f"{field}: router {router.name} already has a {spec.kind} {key[1]!r}",
                        field=field,
                    )
                if spec.check is not None:
                    spec.check(conn, router, values, where)
                row = {
                    **values,
                    "id": ids[index] if ids is not None else repo.new_id(),
                    "router_uuid": router.id,
                    "status": Status.PENDING_CREATE,
                    "status_detail": "",
                    "version": 1,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                # later items may refer to earlier ones (a policy to a set in the same batch)
                try:
                    owned_rows.insert_rows(conn, spec.record, rows=[row])
                except IntegrityError:
                    raise Conflict(f"a {spec.kind} {key[1]!r} was created concurrently") from None
                created.append(spec.record.from_row(row))
            self.notify(set(owners))
            for record in created:
                self._emit(ev.RESOURCE_CREATED, record, owners[record.router_uuid])
            return created

    def _router(
        self, principal: Principal, router: RouterRecord | None, key: str, where: str
    ) -> RouterRecord:
        if router is None or not may_see(principal, router):
            raise unknown(ROUTER, key, field=f"{where}router")
        if router.status == Status.PENDING_DELETE:
            raise Conflict(
                f"{where}router: router {router.name} is being deleted", field=f"{where}router"
            )
        return router

    def notify(self, router_ids: set[str]) -> None:
        for router_id in router_ids:
            self._notifier.router_changed(router_id)

    # --- read ------------------------------------------------------------------

    def get(self, principal: Principal, row_id: str) -> tuple[R, RouterRecord]:
        with reading(self._engine) as conn:
            return self.found(conn, principal, row_id)

    def found(self, conn: Connection, principal: Principal, row_id: str) -> tuple[R, RouterRecord]:
        row = owned_rows.get_row(conn, self.spec.record, row_id=row_id)
        return visible_owned(
            conn, principal, ROUTER, row, lambda r: r.router_uuid, kind=self.spec.kind, ident=row_id
        )

    def find(self, principal: Principal, *, router: str, key: str) -> R | None:
        with reading(self._engine) as conn:
            record = visible_owner(conn, principal, ROUTER, router)
            return owned_rows.get_by_key(conn, self.spec.record, router_id=record.id, key=key)

    def list(self, principal: Principal, query: ListQuery) -> Page[R]:
        """Filters by the API's names (a set's ``type``)."""
        return super().list(principal, replace(query, filters=self.spec.to_columns(query.filters)))

    def rows(
        self, conn: Connection, scope: Scope, query: ListQuery
    ) -> tuple[builtins.list[R], int]:
        spec = self.spec
        return owned_rows.list_owned(
            conn,
            spec.record,
            sortable=spec.sortable,
            default_sort=f"router,{spec.key_field}",
            **scope.store_args(query),
        )

    # --- update / delete -------------------------------------------------------

    def update(
        self,
        principal: Principal,
        row_id: str,
        *,
        changes: Patch,
        if_match: int | None,
        revive: bool = False,
    ) -> Written[R]:
        """``changes``: the kind's patch body; what it names is what may change.
        ``revive``: an object being deleted is kept after all (a rollback)."""
        spec = self.spec
        sent = spec.stored(changes.changes())

        def prepare(row: R) -> None:
            if spec.prepare is not None:
                sent.update(spec.prepare(row, sent))

        checked = self.target(principal, row_id, if_match, before_version=prepare)
        with checked as (conn, row, router):
            _check_hand_written(spec.kind, row)
            deleting = row.status == Status.PENDING_DELETE
            if deleting and not revive:
                raise Conflict(f"{spec.kind} {row.key} is being deleted")
            if deleting:
                self._router(principal, router, router.id, "")
            stored = {**row.values(), "description": row.description}
            changed = {k: v for k, v in sent.items() if stored[k] != v}
            if not changed and not deleting:
                return Written(row)
            if spec.check is not None:
                spec.check(conn, router, {**stored, **changed}, "")
            bookkeeping = {"status": status_after_update(row.status), "status_detail": ""}
            updated = self._write(conn, row, {**changed, **bookkeeping}, if_match)
            self.notify({router.id})
            self._emit(ev.RESOURCE_UPDATED, updated, router, changed)
            return Written(updated)

    def delete(
        self,
        principal: Principal,
        row_id: str,
        *,
        if_match: int | None,
    ) -> R:
        spec = self.spec
        with self.target(principal, row_id, if_match) as (conn, row, router):
            _check_hand_written(spec.kind, row)
            if spec.referenced is not None:
                message = spec.referenced(conn, router, row)
                if message:
                    raise Conflict(message)
            updated = row
            if row.status != Status.PENDING_DELETE:
                updated = self._write(conn, row, DELETING, if_match)
            self.notify({router.id})
            self._emit(ev.RESOURCE_DELETED, updated, router)
            return updated

    def _write(
        self, conn: Connection, row: R, values: Mapping[str, Any], if_match: int | None
    ) -> R:
        """``values`` written over ``row`` (guarded by its version); the row as stored."""
        record = self.spec.record
        self.guarded(
            owned_rows.update_row(
                conn, record, row_id=row.id, expected_version=row.version, values=values
            ),
            row.id,
            if_match,
        )
        updated = owned_rows.get_row(conn, record, row_id=row.id)
        assert updated is not None  # written in this transaction
        return updated


def _check_hand_written(kind: str, row: OwnedRecord) -> None:
    """Objects an intent or a site generated change only with it (migration 0009)."""
    if row.generated_by:
        what, ident = row.generated_by.split(":", 1)
        raise Conflict(
            f"{kind} {row.key} is generated by {what} /v1/{what}s/{ident}; "
            f"change that {what} instead"
        )
