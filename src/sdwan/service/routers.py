"""Routers: create, list, show, update, delete."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.api_address import endpoint_key
from sdwan.domain.status import DELETING, Status, status_after_update
from sdwan.errors import Conflict, InvalidInput, PermissionDenied
from sdwan.schemas.routers import RouterCreate, RouterUpdate
from sdwan.service import resource_events as ev
from sdwan.service.api_addresses import AddressPolicy
from sdwan.service.common import (
    ChangeNotifier,
    ListQuery,
    Written,
)
from sdwan.service.resource import ResourceService
from sdwan.service.resource_events import EventSink
from sdwan.service.uow import reading, unit_of_work
from sdwan.service.visibility import ROUTER, Scope, visible_owner
from sdwan.store import identity_repo, intent_repo, repo
from sdwan.store.records import RouterRecord

RESTART_FIELDS = ("asn", "router_id", "listen_port", "listen_addresses")


class RouterService(ResourceService[RouterRecord, RouterRecord, RouterRecord]):
    kind = "router"

    def __init__(
        self,
        *,
        engine: Engine,
        notifier: ChangeNotifier,
        events: EventSink | None = None,
        addresses: AddressPolicy | None = None,
    ) -> None:
        super().__init__(engine=engine, notifier=notifier, events=events)
        self._addresses = addresses or AddressPolicy()

    def create_many(
        self,
        principal: Principal,
        *,
        items: Sequence[RouterCreate],
        ids: Sequence[str] | None = None,
    ) -> list[RouterRecord]:
        """All or nothing, in one transaction. ``ids``: the new routers' ids (a rollback
        re-creating routers as they were), else new ones."""
        principal.require_write()
        prefix = len(items) > 1
        fields = [item.model_dump(exclude={"project"}) for item in items]
        _unique_within(fields, "name", prefix, str)
        _unique_within(fields, "api_address", prefix, endpoint_key)
        stamp = repo.now()
        rows = [
            {
                "id": ids[index] if ids is not None else repo.new_id(),
                "project_id": _project_of(principal, item.project),
                **values,
                "status": Status.PENDING_CREATE,
                "status_detail": "",
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
            for index, (item, values) in enumerate(zip(items, fields, strict=True))
        ]
        with unit_of_work(self._engine) as work:  # a few queries, whatever the item count
            conn = work.conn
            used = _endpoints_in_use(conn)
            allowlists = identity_repo.project_allowlists(conn, {r["project_id"] for r in rows})
            taken = repo.router_names_taken(conn, names=[r["name"] for r in rows])
            for index, row in enumerate(rows):
                where = f"items[{index}]." if prefix else ""
                if row["project_id"] not in allowlists:
                    raise InvalidInput(
                        f"{where}project: no project {row['project_id']!r}",
                        field=f"{where}project",
                    )
                if row["name"] in taken:
                    raise Conflict(
                        f"{where}name: {row['name']!r} is already in use", field=f"{where}name"
                    )
                self._check_free(conn, principal, row, used, where=where, name_checked=True)
                self._addresses.check(
                    row["api_address"],
                    allowlists[row["project_id"]],
                    project=row["project_id"],
                    field=f"{where}api_address",
                )
            try:
                repo.insert_routers(conn, rows=rows)
            except IntegrityError:
                raise Conflict("router name or api_address already in use") from None
            records = repo.get_routers_by_ids(conn, ids=[row["id"] for row in rows])
            for row in rows:
                self._notifier.router_changed(row["id"])
            self._events.emit([ev.router_event(ev.RESOURCE_CREATED, r) for r in records])
            return records

    def _check_free(
        self,
        conn: Any,
        principal: Principal,
        row: Mapping[str, Any],
        used: dict[str, tuple[str, str, str]],
        *,
        where: str,
        own_id: str = "",
        name_checked: bool = False,
    ) -> None:
        """409 when the name or the gobgpd (compared by ``endpoint_key``: every
        spelling of one socket or host:port) is taken. The answer names the router
        holding it only when the caller may see that router."""
        if (
            "name" in row
            and not name_checked
            and repo.name_taken(conn, name=row["name"], except_id=own_id)
        ):
            raise Conflict(f"{where}name: {row['name']!r} is already in use", field=f"{where}name")
        if "api_address" not in row:
            return
        key = endpoint_key(row["api_address"])
        holder = used.get(key)
        if holder is not None and holder[0] != own_id:
            _id, name, project = holder
            seen = principal.project_id is None or principal.project_id == project
            who = f"router {name}" if seen else "another router"
            raise Conflict(
                f"{where}api_address: {row['api_address']} reaches a gobgpd already managed "
                f"by {who}",
                field=f"{where}api_address",
            )
        if "id" in row:
            used[key] = (row["id"], row["name"], row["project_id"])

    def _check_allowed(self, conn: Any, project: str, target: str, where: str) -> None:
        self._addresses.check(
            target,
            identity_repo.project_allowlist(conn, project),
            project=project,
            field=f"{where}api_address",
        )

    def get(self, principal: Principal, key: str) -> RouterRecord:
        with reading(self._engine) as conn:
            return visible_owner(conn, principal, ROUTER, key)

    def found(
        self, conn: Connection, principal: Principal, ident: str
    ) -> tuple[RouterRecord, RouterRecord]:
        router = visible_owner(conn, principal, ROUTER, ident)
        return router, router

    def rows(
        self, conn: Connection, scope: Scope, query: ListQuery
    ) -> tuple[list[RouterRecord], int]:
        return repo.list_routers(conn, **scope.store_args(query))

    def update(
        self,
        principal: Principal,
        key: str,
        *,
        changes: RouterUpdate,
        if_match: int | None,
        revive: bool = False,
    ) -> Written[RouterRecord]:
        """``revive``: a router being deleted is kept after all (a rollback), its
        neighbors stay marked until they are revived too."""
        sent = changes.changes()
        with self.target(principal, key, if_match) as (conn, router, _):
            deleting = router.status == Status.PENDING_DELETE
            if deleting and not revive:
                raise Conflict(f"router {router.name} is being deleted")
            changed = {k: v for k, v in sent.items() if getattr(router, k) != v}
            if not changed and not deleting:
                return Written(router)
            used = _endpoints_in_use(conn) if "api_address" in changed else {}
            self._check_free(conn, principal, changed, used, where="", own_id=router.id)
            if "api_address" in changed:
                self._check_allowed(conn, router.project_id, changed["api_address"], "")
            changed["status"] = status_after_update(router.status)
            changed["status_detail"] = ""
            self.guarded(
                repo.update_router(
                    conn, router_id=router.id, expected_version=router.version, values=changed
                ),
                router.name,
                if_match,
            )
            updated = repo.get_router(conn, key=router.id)
            neighbor_count = repo.count_neighbors(conn, router_id=router.id)
            assert updated is not None
            warnings = []
            restart = [f for f in RESTART_FIELDS if f in changed]
            if restart and router.status != Status.PENDING_CREATE:
                warnings.append(
                    f"changing {', '.join(restart)} restarts BGP on {updated.name}: "
                    f"all {neighbor_count} of its sessions reset"
                )
            self._notifier.router_changed(router.id)
            self._events.emit([ev.router_event(ev.RESOURCE_UPDATED, updated, changed)])
            return Written(updated, warnings)

    def delete(
        self, principal: Principal, key: str, *, cascade: bool, force: bool, if_match: int | None
    ) -> Written[RouterRecord | None]:
        """Mark for deletion (the reconciler stops BGP and removes the row), or with
        ``force`` remove at once without touching its gobgpd."""
        with self.target(principal, key, if_match) as (conn, router, _):
            site = intent_repo.site_of_router(conn, router_id=router.id)
            if site is not None and not force:
                raise Conflict(
                    f"router {router.name} is in a site (/v1/sites/{site}); remove it from the "
                    "site first (or force=true)"
                )
            count = repo.count_neighbors(conn, router_id=router.id)
            if count and not cascade:
                raise Conflict(
                    f"router {router.name} still has {count} neighbor(s); delete them first "
                    "or pass cascade=true"
                )
            self.taking_along(conn, "router", router.id)
            if force:
                self.guarded(
                    repo.delete_router_row(
                        conn, router_id=router.id, expected_version=router.version
                    ),
                    router.name,
                    if_match,
                )
                self._events.emit([ev.router_event(ev.RESOURCE_DELETED, router)])  # audited
                return Written(None, [f"router {router.name} removed without touching its gobgpd"])
            if count:
                repo.mark_router_neighbors_deleted(
                    conn, router_id=router.id, status=Status.PENDING_DELETE
                )
            self.guarded(
                repo.update_router(
                    conn,
                    router_id=router.id,
                    expected_version=router.version,
                    values=DELETING,
                ),
                router.name,
                if_match,
            )
            updated = repo.get_router(conn, key=router.id)
            self._notifier.router_changed(router.id)
            if updated is not None:
                self._events.emit([ev.router_event(ev.RESOURCE_DELETED, updated)])
            warnings = [f"{count} neighbor(s) deleted with it"] if count else []
            return Written(updated, warnings)


def _project_of(principal: Principal, wanted: str | None) -> str:
    """Admins choose the project (``project``, default: default); others create in theirs."""
    if wanted is None or wanted == principal.project_id:
        return principal.write_project
    if not principal.is_admin:
        raise PermissionDenied(
            f"{principal.name} may create routers only in project {principal.project_id}"
        )
    return str(wanted)


def _unique_within(
    items: Sequence[Mapping[str, Any]], field: str, prefix: bool, key: Callable[[str], str]
) -> None:
    seen: dict[Any, int] = {}
    for index, item in enumerate(items):
        value = item.get(field)
        if value is None:
            continue
        if key(value) in seen:
            where = f"items[{index}]." if prefix else ""
            raise Conflict(
                f"{where}{field}: {value!r} appears twice in this request "
                f"(also items[{seen[key(value)]}])",
                field=f"{where}{field}",
            )
        seen[key(value)] = index


def _endpoints_in_use(conn: Any) -> dict[str, tuple[str, str, str]]:
    """endpoint_key -> (id, name, project) of every router, whatever project."""
    used = {}
    for router_id, name, project, api_address in repo.router_endpoints(conn):
        try:
            used[endpoint_key(api_address)] = (router_id, name, project)
        except ValueError:  # a row stored before the checks; it cannot clash
            continue
    return used
