"""Routers: create, list, show, update, delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.status import Status, status_after_update
from sdwan.errors import Conflict, InvalidInput, PermissionDenied
from sdwan.service import resource_events as ev
from sdwan.service.common import ChangeNotifier, Page, Written, check_version, visible
from sdwan.service.resource_events import EventSink, NoEvents
from sdwan.service.uow import atomic, reading, transaction, unit_of_work
from sdwan.store import identity_repo, repo
from sdwan.store.records import RouterRecord
from sdwan.store.tables import routers

RESTART_FIELDS = ("asn", "router_id", "listen_port", "listen_addresses")


class RouterService:
    def __init__(
        self, *, engine: Engine, notifier: ChangeNotifier, events: EventSink | None = None
    ) -> None:
        self._engine = engine
        self._notifier = notifier
        self._events = events or NoEvents()

    @atomic
    def create_many(
        self, principal: Principal, *, items: Sequence[Mapping[str, Any]]
    ) -> list[RouterRecord]:
        """All or nothing, in one transaction. ``items`` are validated field values."""
        principal.require_write()
        prefix = len(items) > 1
        _unique_within(items, "name", prefix)
        _unique_within(items, "api_address", prefix)
        stamp = repo.now()
        rows = [
            {
                "id": repo.new_id(),
                "project_id": _project_of(principal, item),
                "listen_port": 179,
                "listen_addresses": [],
                "description": "",
                **{k: v for k, v in item.items() if k != "project"},
                "status": Status.PENDING_CREATE,
                "status_detail": "",
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
            for item in items
        ]
        with transaction(self._engine) as conn:
            for index, row in enumerate(rows):
                where = f"items[{index}]." if prefix else ""
                self._check_free(conn, row, where=where)
                if not identity_repo.project_exists(conn, row["project_id"]):
                    raise InvalidInput(
                        f"{where}project: no project {row['project_id']!r}",
                        field=f"{where}project",
                    )
            try:
                repo.insert_routers(conn, rows=rows)
            except IntegrityError as exc:
                raise Conflict(f"router name or api_address already in use: {exc.orig}") from None
            created = [repo.get_router(conn, key=row["id"]) for row in rows]
        for row in rows:
            self._notifier.router_changed(row["id"])
        records = [r for r in created if r is not None]
        self._events.emit([ev.router_event(ev.RESOURCE_CREATED, r) for r in records])
        return records

    def _check_free(
        self, conn: Any, row: Mapping[str, Any], *, where: str, own_id: str = ""
    ) -> None:
        for field in ("name", "api_address"):
            if field not in row:
                continue
            clash = conn.execute(
                select(routers.c.id, routers.c.name).where(
                    routers.c[field] == row[field], routers.c.id != own_id
                )
            ).first()
            if clash is not None:
                raise Conflict(
                    f"{where}{field}: {row[field]!r} is already used by router {clash.name}",
                    field=f"{where}{field}",
                )

    def get(self, principal: Principal, key: str) -> RouterRecord:
        with reading(self._engine) as conn:
            return visible(principal, repo.get_router(conn, key=key), key)

    def list(
        self,
        principal: Principal,
        *,
        filters: dict[str, Any],
        sort: str | None,
        limit: int,
        offset: int,
    ) -> Page[RouterRecord]:
        if principal.project_id is not None:
            if filters.get("project_id", principal.project_id) != principal.project_id:
                return Page([], 0, limit, offset)  # another project: nothing visible
            filters = {**filters, "project_id": principal.project_id}
        with reading(self._engine) as conn:
            items, total = repo.list_routers(
                conn, filters=filters, sort=sort, limit=limit, offset=offset
            )
        return Page(items, total, limit, offset)

    def dry_run(self) -> AbstractContextManager[object]:
        """Service calls inside run every check and then roll back (nothing is kept,
        told to the reconciler or logged): what a change would do, before doing it."""
        return unit_of_work(self._engine, commit=False)

    @atomic
    def update(
        self, principal: Principal, key: str, *, changes: Mapping[str, Any], if_match: int | None
    ) -> Written[RouterRecord]:
        principal.require_write()
        with transaction(self._engine) as conn:
            router = visible(principal, repo.get_router(conn, key=key), key)
            check_version(kind="router", key=key, current=router.version, if_match=if_match)
            if router.status == Status.PENDING_DELETE:
                raise Conflict(f"router {router.name} is being deleted")
            changed = {k: v for k, v in changes.items() if getattr(router, k) != v}
            if not changed:
                return Written(router)
            self._check_free(conn, changed, where="", own_id=router.id)
            changed["status"] = status_after_update(router.status)
            changed["status_detail"] = ""
            if not repo.update_router(
                conn, router_id=router.id, expected_version=router.version, values=changed
            ):
                raise Conflict(f"router {router.name} changed concurrently; retry")
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

    @atomic
    def delete(
        self, principal: Principal, key: str, *, cascade: bool, force: bool, if_match: int | None
    ) -> Written[RouterRecord | None]:
        """Mark for deletion (the reconciler stops BGP and removes the row), or with
        ``force`` remove at once without touching its gobgpd."""
        principal.require_write()
        with transaction(self._engine) as conn:
            router = visible(principal, repo.get_router(conn, key=key), key)
            check_version(kind="router", key=key, current=router.version, if_match=if_match)
            count = repo.count_neighbors(conn, router_id=router.id)
            if count and not cascade:
                raise Conflict(
                    f"router {router.name} still has {count} neighbor(s); delete them first "
                    "or pass cascade=true"
                )
            if force:
                repo.delete_router_row(conn, router_id=router.id)
                self._events.emit([ev.router_event(ev.RESOURCE_DELETED, router)])  # audited
                return Written(None, [f"router {router.name} removed without touching its gobgpd"])
            if count:
                repo.mark_router_neighbors_deleted(
                    conn, router_id=router.id, status=Status.PENDING_DELETE
                )
            repo.update_router(
                conn,
                router_id=router.id,
                expected_version=router.version,
                values={"status": Status.PENDING_DELETE, "status_detail": ""},
            )
            updated = repo.get_router(conn, key=router.id)
        self._notifier.router_changed(router.id)
        if updated is not None:
            self._events.emit([ev.router_event(ev.RESOURCE_DELETED, updated)])
        warnings = [f"{count} neighbor(s) deleted with it"] if count else []
        return Written(updated, warnings)


def _project_of(principal: Principal, item: Mapping[str, Any]) -> str:
    """Admins choose the project (``project``, default: default); others create in theirs."""
    wanted = item.get("project")
    if wanted is None or wanted == principal.project_id:
        return principal.write_project
    if not principal.is_admin:
        raise PermissionDenied(
            f"{principal.name} may create routers only in project {principal.project_id}"
        )
    return str(wanted)


def _unique_within(items: Sequence[Mapping[str, Any]], field: str, prefix: bool) -> None:
    seen: dict[Any, int] = {}
    for index, item in enumerate(items):
        value = item.get(field)
        if value is None:
            continue
        if value in seen:
            where = f"items[{index}]." if prefix else ""
            raise Conflict(
                f"{where}{field}: {value!r} appears twice in this request "
                f"(also items[{seen[value]}])",
                field=f"{where}{field}",
            )
        seen[value] = index
