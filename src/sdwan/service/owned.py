"""One service for every resource a router owns by a key (a name, or a prefix):
defined sets, policies, attachments, announcements. A OwnedSpec says what differs:
the table, the key, the rules that need the store (references, conflicts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.status import Status, status_after_update
from sdwan.errors import Conflict, InvalidInput, NotFound
from sdwan.service import resource_events as ev
from sdwan.service.common import (
    ChangeNotifier,
    Page,
    Written,
    changed_concurrently,
    check_version,
    visible,
)
from sdwan.service.resource_events import EventSink, NoEvents
from sdwan.service.uow import reading, unit_of_work
from sdwan.store import owned_rows, repo
from sdwan.store.owned_rows import Row
from sdwan.store.records import RouterRecord

# (conn, router, values, where) -> None; raises InvalidInput/Conflict naming the field
RuleCheck = Callable[[Connection, RouterRecord, dict[str, Any], str], None]
# (conn, router, row) -> message if something still refers to the row, else None
RefCheck = Callable[[Connection, RouterRecord, Row], str | None]


@dataclass(frozen=True)
class OwnedSpec:
    kind: str  # "defined set", for messages
    table: str  # its table in store/ (owned_rows.OWNED_TABLES)
    key_field: str  # unique per router
    sortable: tuple[str, ...]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    immutable: tuple[str, ...] = ()
    check: RuleCheck | None = None
    referenced: RefCheck | None = None


class OwnedService:
    def __init__(
        self,
        spec: OwnedSpec,
        *,
        engine: Engine,
        notifier: ChangeNotifier,
        events: EventSink | None = None,
    ) -> None:
        """``notifier`` and ``events`` must defer to the commit (runtime wraps them in
        DeferredCalls): every write below runs inside a unit of work."""
        self.spec = spec
        self._engine = engine
        self._notifier = notifier
        self._events = events or NoEvents()

    def _emit(self, kind: str, row: Row, router: RouterRecord, changed: Any = ()) -> None:
        self._events.emit(
            [ev.owned_event(kind, self.spec.kind, row, self.spec.key_field, router, changed)]
        )

    # --- create ----------------------------------------------------------------

    def create_many(
        self,
        principal: Principal,
        *,
        items: Sequence[Mapping[str, Any]],
    ) -> list[Row]:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            prefix = len(items) > 1
            stamp = repo.now()
            rows: list[Row] = []
            owners: dict[str, RouterRecord] = {}
            seen: dict[tuple[str, Any], int] = {}
            routers = repo.get_routers_by_keys(conn, keys={i["router"] for i in items})
            for index, item in enumerate(items):
                where = f"items[{index}]." if prefix else ""
                router = self._router(principal, routers.get(item["router"]), item["router"], where)
                owners[router.id] = router
                values = {**self.spec.defaults, **{k: v for k, v in item.items() if k != "router"}}
                key = (router.id, values[self.spec.key_field])
                if key in seen:
                    raise Conflict(
                        f"{where}{self.spec.key_field}: {key[1]!r} appears twice for router "
                        f"{router.name} in this request (also items[{seen[key]}])",
                        field=f"{where}{self.spec.key_field}",
                    )
                seen[key] = index
                if (
                    owned_rows.get_by_key(
                        conn,
                        self.spec.table,
                        router_id=router.id,
                        key_field=self.spec.key_field,
                        key=key[1],
                    )
                    is not None
                ):
                    raise Conflict(
                        f"{where}{self.spec.key_field}: router {router.name} already has a "
                        f"{self.spec.kind} {key[1]!r}",
                        field=f"{where}{self.spec.key_field}",
                    )
                if self.spec.check is not None:
                    self.spec.check(conn, router, values, where)
                rows.append(
                    {
                        **values,
                        "id": repo.new_id(),
                        "router_uuid": router.id,
                        "status": Status.PENDING_CREATE,
                        "status_detail": "",
                        "version": 1,
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                )
                # later items may refer to earlier ones (a policy to a set in the same batch)
                try:
                    owned_rows.insert_rows(conn, self.spec.table, rows=[rows[-1]])
                except IntegrityError:
                    raise Conflict(
                        f"a {self.spec.kind} {key[1]!r} was created concurrently"
                    ) from None
            self.notify(set(owners))
            for row in rows:
                self._emit(ev.RESOURCE_CREATED, row, owners[row["router_uuid"]])
            return rows

    def _router(
        self, principal: Principal, router: RouterRecord | None, key: str, where: str
    ) -> RouterRecord:
        try:
            found = visible(principal, router, key)
        except NotFound:
            raise InvalidInput(
                f"{where}router: no router {key!r}", field=f"{where}router"
            ) from None
        if found.status == Status.PENDING_DELETE:
            raise Conflict(
                f"{where}router: router {found.name} is being deleted", field=f"{where}router"
            )
        return found

    def notify(self, router_ids: set[str]) -> None:
        for router_id in router_ids:
            self._notifier.router_changed(router_id)

    # --- read ------------------------------------------------------------------

    def get(self, principal: Principal, row_id: str) -> tuple[Row, RouterRecord]:
        with reading(self._engine) as conn:
            return self._visible(conn, principal, row_id)

    def _visible(
        self, conn: Connection, principal: Principal, row_id: str
    ) -> tuple[Row, RouterRecord]:
        row = owned_rows.get_row(conn, self.spec.table, row_id=row_id)
        router = repo.get_router(conn, key=row["router_uuid"]) if row else None
        try:
            found = visible(principal, router, row_id)
        except NotFound:
            raise NotFound(f"{self.spec.kind} {row_id!r} not found") from None
        assert row is not None
        return row, found

    def find(self, principal: Principal, *, router: str, key: str) -> Row | None:
        with reading(self._engine) as conn:
            record = visible(principal, repo.get_router(conn, key=router), router)
            return owned_rows.get_by_key(
                conn, self.spec.table, router_id=record.id, key_field=self.spec.key_field, key=key
            )

    def list(
        self,
        principal: Principal,
        *,
        filters: dict[str, Any],
        sort: str | None,
        limit: int,
        offset: int,
    ) -> Page[Row]:
        filters = dict(filters)
        with reading(self._engine) as conn:
            if "router" in filters:
                key = filters.pop("router")
                try:
                    filters["router_uuid"] = visible(
                        principal, repo.get_router(conn, key=key), key
                    ).id
                except NotFound:
                    raise InvalidInput(f"router: no router {key!r}", field="router") from None
            rows, total = owned_rows.list_owned(
                conn,
                self.spec.table,
                filters=filters,
                sort=sort,
                sortable=self.spec.sortable,
                default_sort=f"router,{self.spec.key_field}",
                limit=limit,
                offset=offset,
                project_id=principal.project_id,
            )
        return Page(rows, total, limit, offset)

    # --- update / delete -------------------------------------------------------

    def update(
        self,
        principal: Principal,
        row_id: str,
        *,
        changes: Mapping[str, Any],
        if_match: int | None,
    ) -> Written[Row]:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            row, router = self._visible(conn, principal, row_id)
            check_version(
                kind=self.spec.kind, key=row_id, current=row["version"], if_match=if_match
            )
            _check_hand_written(self.spec.kind, row)
            if row["status"] == Status.PENDING_DELETE:
                raise Conflict(f"{self.spec.kind} {row[self.spec.key_field]} is being deleted")
            for name in (self.spec.key_field, *self.spec.immutable):
                if name in changes and changes[name] != row[name]:
                    raise InvalidInput(
                        f"{name}: cannot be changed; delete and create instead", field=name
                    )
            changed = {k: v for k, v in changes.items() if row[k] != v}
            if not changed:
                return Written(row)
            if self.spec.check is not None:
                self.spec.check(conn, router, {**row, **changed}, "")
            changed["status"] = status_after_update(row["status"])
            changed["status_detail"] = ""
            if not owned_rows.update_row(
                conn,
                self.spec.table,
                row_id=row_id,
                expected_version=row["version"],
                values=changed,
            ):
                raise changed_concurrently(kind=self.spec.kind, key=row_id, if_match=if_match)
            updated = owned_rows.get_row(conn, self.spec.table, row_id=row_id)
            assert updated is not None
            self.notify({router.id})
            self._emit(ev.RESOURCE_UPDATED, updated, router, changed)
            return Written(updated)

    def delete(
        self,
        principal: Principal,
        row_id: str,
        *,
        if_match: int | None,
    ) -> Row:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            row, router = self._visible(conn, principal, row_id)
            check_version(
                kind=self.spec.kind, key=row_id, current=row["version"], if_match=if_match
            )
            _check_hand_written(self.spec.kind, row)
            if self.spec.referenced is not None:
                message = self.spec.referenced(conn, router, row)
                if message:
                    raise Conflict(message)
            if row["status"] != Status.PENDING_DELETE:
                owned_rows.update_row(
                    conn,
                    self.spec.table,
                    row_id=row_id,
                    expected_version=row["version"],
                    values={"status": Status.PENDING_DELETE, "status_detail": ""},
                )
            updated = owned_rows.get_row(conn, self.spec.table, row_id=row_id)
            assert updated is not None
            self.notify({router.id})
            self._emit(ev.RESOURCE_DELETED, updated, router)
            return updated


def _check_hand_written(kind: str, row: Row) -> None:
    """Objects an intent or a site generated change only with it (migration 0014)."""
    owner = row.get("generated_by")
    if owner:
        what, ident = str(owner).split(":", 1)
        raise Conflict(
            f"{kind} {row.get('name', row['id'])} is generated by {what} /v1/{what}s/{ident}; "
            f"change that {what} instead"
        )
