"""Neighbors: create (one or many), list, show, update, delete."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.api_address import endpoint_key
from sdwan.domain.bgp import RECREATE_FIELDS
from sdwan.domain.neighbor_rules import check_neighbor
from sdwan.domain.status import DELETING, Status, status_after_update
from sdwan.domain.values import default_families
from sdwan.errors import Conflict, InvalidInput
from sdwan.schemas.neighbors import NeighborCreate, NeighborUpdate
from sdwan.secretbox import SecretBox
from sdwan.service import resource_events as ev
from sdwan.service.common import (
    ChangeNotifier,
    ListQuery,
    Written,
)
from sdwan.service.policy_specs import attachments_naming
from sdwan.service.resource import ResourceService
from sdwan.service.resource_events import EventSink
from sdwan.service.uow import reading, unit_of_work
from sdwan.service.visibility import (
    ROUTER,
    Scope,
    may_see,
    unknown,
    visible_owned,
)
from sdwan.store import repo
from sdwan.store.records import NeighborRecord, RouterRecord

RESET_FIELDS = (
    frozenset({"peer_asn", "password", "local_address", "passive", "enabled", "families"})
    | RECREATE_FIELDS
)
# (conn, router, neighbor) -> why the neighbor must stay (something names it), or None
DeleteGuard = Callable[[Connection, RouterRecord, NeighborRecord], str | None]


class NeighborService(ResourceService[NeighborRecord, RouterRecord, NeighborRecord]):
    kind = "neighbor"
    owner = ROUTER

    def __init__(
        self,
        *,
        engine: Engine,
        notifier: ChangeNotifier,
        secrets: SecretBox,
        events: EventSink | None = None,
    ) -> None:
        super().__init__(engine=engine, notifier=notifier, events=events)
        self._secrets = secrets
        self._delete_guards: list[DeleteGuard] = []

    def guard_delete(self, guard: DeleteGuard) -> None:
        """A layer built on neighbors (an uplink is one) keeps the neighbors it names:
        a delete is answered 409 with the guard's reason."""
        self._delete_guards.append(guard)

    def create_many(
        self,
        principal: Principal,
        *,
        items: Sequence[NeighborCreate],
        ids: Sequence[str] | None = None,
    ) -> list[NeighborRecord]:
        """All or nothing. ``ids``: the new neighbors' ids (a rollback), else new ones."""
        principal.require_write()
        prefix = len(items) > 1
        stamp = repo.now()
        rows: list[dict[str, Any]] = []
        seen: dict[tuple[str, str], int] = {}
        with unit_of_work(self._engine) as work:
            conn = work.conn
            routers = repo.get_routers_by_keys(conn, keys={i.router for i in items})
            for index, item in enumerate(items):
                where = f"items[{index}]." if prefix else ""
                router = routers.get(item.router)
                if router is None or not may_see(principal, router):
                    raise unknown(ROUTER, item.router, field=f"{where}router")
                self._check_router_usable(router, item.api_address, where)
                key = (router.id, item.address)
                if key in seen:
                    raise Conflict(
                        f"{where}address: {item.address} appears twice for router "
                        f"{router.name} in this request (also items[{seen[key]}])",
                        field=f"{where}address",
                    )
                seen[key] = index
                ident = ids[index] if ids is not None else repo.new_id()
                rows.append(self._row(item, router, where, stamp, ident))
            taken = repo.existing_addresses(
                conn, pairs=[(r["router_uuid"], r["address"]) for r in rows]
            )
            for index, row in enumerate(rows):
                if (row["router_uuid"], row["address"]) in taken:
                    where = f"items[{index}]." if prefix else ""
                    name = next(r.name for r in routers.values() if r.id == row["router_uuid"])
                    raise Conflict(
                        f"{where}address: router {name} already has neighbor {row['address']}",
                        field=f"{where}address",
                    )
            try:
                repo.insert_neighbors(conn, rows=rows)
            except IntegrityError:
                raise Conflict("a neighbor with that address was created concurrently") from None
            changed: dict[str, set[str]] = {}
            for row in rows:
                changed.setdefault(row["router_uuid"], set()).add(row["address"])
            for router_id, addresses in changed.items():
                self._notifier.router_changed(router_id, addresses)
            records = [NeighborRecord.from_row(row) for row in rows]
            by_id = {r.id: r for r in routers.values()}
            self._events.emit(
                ev.neighbor_events(ev.RESOURCE_CREATED, records, by_id),
                rows={row["id"]: row for row in rows},
            )
            return records

    def _check_router_usable(
        self, router: RouterRecord, api_address: str | None, where: str
    ) -> None:
        if router.status == Status.PENDING_DELETE:
            raise Conflict(
                f"{where}router: router {router.name} is being deleted", field=f"{where}router"
            )
        if api_address is not None and endpoint_key(api_address) != endpoint_key(
            router.api_address
        ):
            raise InvalidInput(
                f"{where}api_address: {api_address} is not router {router.name}'s "
                f"api_address ({router.api_address})",
                field=f"{where}api_address",
            )

    def _row(
        self, item: NeighborCreate, router: RouterRecord, where: str, stamp: Any, ident: str
    ) -> dict[str, Any]:
        values = item.model_dump(exclude={"router", "api_address"})
        if values["families"] is None:
            values["families"] = default_families(item.address)
        check_neighbor(values, where=where)
        password = values.pop("password", None)
        return {
            **values,
            "id": ident,
            "router_uuid": router.id,
            "password_sealed": self._secrets.seal(password) if password else None,
            "status": Status.PENDING_CREATE,
            "status_detail": "",
            "version": 1,
            "created_at": stamp,
            "updated_at": stamp,
        }

    def get(self, principal: Principal, neighbor_id: str) -> tuple[NeighborRecord, RouterRecord]:
        with reading(self._engine) as conn:
            return self.found(conn, principal, neighbor_id)

    def found(
        self, conn: Connection, principal: Principal, neighbor_id: str
    ) -> tuple[NeighborRecord, RouterRecord]:
        neighbor = repo.get_neighbor(conn, neighbor_id=neighbor_id)
        return visible_owned(
            conn,
            principal,
            ROUTER,
            neighbor,
            lambda n: n.router_uuid,
            kind="neighbor",
            ident=neighbor_id,
        )

    def rows(
        self, conn: Connection, scope: Scope, query: ListQuery
    ) -> tuple[list[NeighborRecord], int]:
        return repo.list_neighbors(conn, **scope.store_args(query))

    def router_names(self, router_ids: set[str]) -> dict[str, str]:
        with reading(self._engine) as conn:
            return repo.router_names(conn, router_ids=router_ids)

    def update(
        self,
        principal: Principal,
        neighbor_id: str,
        *,
        changes: NeighborUpdate,
        if_match: int | None,
        revive: bool = False,
    ) -> Written[NeighborRecord]:
        """``revive``: a neighbor being deleted is kept after all (a rollback)."""
        sent = changes.changes()
        with self.target(principal, neighbor_id, if_match) as (conn, neighbor, router):
            deleting = neighbor.status == Status.PENDING_DELETE
            if deleting and not revive:
                raise Conflict(f"neighbor {neighbor.address} is being deleted")
            if deleting:
                self._check_router_usable(router, None, "")
            changed = self._changed(neighbor, sent)
            if not changed and not deleting:
                return Written(neighbor)
            merged = {**neighbor.__dict__, **changed}
            check_neighbor(merged)
            if "password" in changed:
                password = changed.pop("password")
                changed["password_sealed"] = self._secrets.seal(password) if password else None
            changed["status"] = status_after_update(neighbor.status)
            changed["status_detail"] = ""
            self.guarded(
                repo.update_neighbor(
                    conn, neighbor_id=neighbor.id, expected_version=neighbor.version, values=changed
                ),
                neighbor.address,
                if_match,
            )
            updated = repo.get_neighbor(conn, neighbor_id=neighbor.id)
            assert updated is not None
            warnings = []
            resets = sorted(RESET_FIELDS.intersection(changed))
            if resets and neighbor.status != Status.PENDING_CREATE:
                warnings.append(
                    f"changing {', '.join(resets)} resets the BGP session with {neighbor.address} "
                    f"on {router.name}"
                )
            if "password_sealed" in changed and neighbor.status != Status.PENDING_CREATE:
                warnings.append(  # the same for every password: it is never compared
                    f"writing the password resets the BGP session with {neighbor.address} on "
                    f"{router.name} unless gobgpd has that password already"
                )
            self._notifier.router_changed(router.id, {neighbor.address})
            routers = {router.id: router}
            self._events.emit(ev.neighbor_events(ev.RESOURCE_UPDATED, [updated], routers, changed))
            return Written(updated, warnings)

    def _changed(self, neighbor: NeighborRecord, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The fields that change. A password given is always a change, never compared
        with the stored one (the answer would tell whether a guess was right); clearing
        changes only a neighbor that has one (``password_set`` is public)."""
        changed: dict[str, Any] = {}
        for field, value in changes.items():
            if field == "password":
                if value or neighbor.password_sealed is not None:
                    changed["password"] = value or ""
            elif getattr(neighbor, field) != value:
                changed[field] = value
        return changed

    def delete(
        self, principal: Principal, neighbor_id: str, *, if_match: int | None
    ) -> NeighborRecord:
        with self.target(principal, neighbor_id, if_match) as (conn, neighbor, router):
            for guard in self._delete_guards:
                reason = guard(conn, router, neighbor)
                if reason:
                    raise Conflict(reason)
            attached = attachments_naming(conn, router.id, neighbor.address)
            if attached:
                raise Conflict(
                    f"neighbor {neighbor.address} is named by policy attachment(s) "
                    f"{', '.join(attached)}; remove it from them first"
                )
            if neighbor.status != Status.PENDING_DELETE:
                self.guarded(
                    repo.update_neighbor(
                        conn,
                        neighbor_id=neighbor.id,
                        expected_version=neighbor.version,
                        values=DELETING,
                    ),
                    neighbor.address,
                    if_match,
                )
            updated = repo.get_neighbor(conn, neighbor_id=neighbor.id)
            assert updated is not None
            self._notifier.router_changed(router.id, {neighbor.address})
            self._events.emit(
                ev.neighbor_events(ev.RESOURCE_DELETED, [updated], {router.id: router})
            )
            return updated
