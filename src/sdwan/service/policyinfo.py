"""The original's ``policyinfo`` resource on top of the policy model.

``exist=New`` creates policy POLICY with one statement and attaches it (direction,
one neighbor) through the attachment ``pi-POLICY-DIRECTION``; ``exist=Existing``
adds one more neighbor to that attachment. Unlike the original, the policy affects
the named neighbor only, and deleting the record really removes it from the router:
the neighbor leaves the attachment, an empty attachment goes, and a policy created
by policyinfo goes with its last record."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.domain.api_address import endpoint_key
from sdwan.domain.policyinfo import parse_statement_action
from sdwan.domain.status import Status
from sdwan.errors import Conflict, InvalidInput
from sdwan.schemas.policy import AttachmentCreate, AttachmentUpdate, PolicyCreate
from sdwan.schemas.policyinfo import PolicyInfoCreate
from sdwan.service.common import ChangeNotifier
from sdwan.service.owned import OwnedService
from sdwan.service.resource_events import EventSink, NoEvents
from sdwan.service.uow import reading, unit_of_work
from sdwan.service.visibility import ROUTER, may_see, visible_owned, visible_owner
from sdwan.store import owned_rows, policyinfo_repo, repo
from sdwan.store.policyinfo_repo import PolicyInfoRecord
from sdwan.store.records import AttachmentRecord, PolicyRecord

MARK = "created by policyinfo"
KIND = "policyinfo"  # as the revision log names its records


@dataclass(frozen=True)
class PolicyInfoView:
    """A policyinfo record as the original showed it: with its router's name and
    gobgpd address, and the status of the attachment it made."""

    record: PolicyInfoRecord
    host_name: str
    mgmt_addr: str
    status: str
    status_detail: str


class PolicyInfoService:
    def __init__(
        self,
        *,
        engine: Engine,
        notifier: ChangeNotifier,
        policies: OwnedService[PolicyRecord],
        attachments: OwnedService[AttachmentRecord],
        events: EventSink | None = None,
    ) -> None:
        self._engine = engine
        self._notifier = notifier
        self._policies = policies
        self._attachments = attachments
        self._events = events or NoEvents()  # the revision log keeps its records

    def create(self, principal: Principal, item: PolicyInfoCreate) -> PolicyInfoView:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            router = visible_owner(conn, principal, ROUTER, item.host_name)
            mgmt = item.mgmt_addr
            if mgmt and endpoint_key(mgmt) != endpoint_key(router.api_address):
                raise InvalidInput(
                    f"mgmt_addr: {mgmt} is not router {router.name}'s "
                    f"api_address ({router.api_address})",
                    field="mgmt_addr",
                )
            policy = self._policies.find(principal, router=router.id, key=item.policy_name)
            if item.exist == "New":
                if policy is not None:
                    raise Conflict(
                        f"policy_name: router {router.name} already has policy "
                        f"{item.policy_name}; use --exist Existing",
                        field="policy_name",
                    )
                try:
                    actions = parse_statement_action(item.statement_action)
                except ValueError as exc:
                    raise InvalidInput(
                        f"statement_action: {exc}", field="statement_action"
                    ) from None
                actions["disposition"] = item.route_disposition
                self._policies.create_many(
                    principal,
                    items=[
                        PolicyCreate.model_validate(
                            {
                                "router": router.id,
                                "name": item.policy_name,
                                "description": MARK,
                                "statements": [{"name": item.statement_name, "actions": actions}],
                            }
                        )
                    ],
                )
            elif policy is None or policy.status == Status.PENDING_DELETE:
                raise InvalidInput(
                    f"policy_name: router {router.name} has no policy "
                    f"{item.policy_name}; use --exist New",
                    field="policy_name",
                )
            name = f"pi-{item.policy_name}-{item.apply_direction}"
            attachment = self._attachments.find(principal, router=router.id, key=name)
            neighbor = item.apply_neighbor
            if attachment is None:
                self._attachments.create_many(
                    principal,
                    items=[  # of names the policyinfo body checked: not checked again
                        AttachmentCreate.model_construct(
                            router=router.id,
                            name=name,
                            direction=item.apply_direction,
                            policies=[item.policy_name],
                            neighbors=[neighbor],
                            description=MARK,
                        )
                    ],
                )
            elif neighbor in attachment.neighbors:
                raise Conflict(
                    f"apply_neighbor: policy {item.policy_name} is already "
                    f"applied ({item.apply_direction}) to {neighbor}",
                    field="apply_neighbor",
                )
            else:
                self._attachments.update(
                    principal,
                    attachment.id,
                    if_match=None,
                    changes=AttachmentUpdate(neighbors=[*attachment.neighbors, neighbor]),
                )
            row = PolicyInfoRecord(
                id=repo.new_id(),
                router_uuid=router.id,
                policy_name=item.policy_name,
                statement_name=item.statement_name,
                statement_action=item.statement_action,
                route_disposition=item.route_disposition,
                apply_direction=item.apply_direction,
                apply_neighbor=neighbor,
                exist=item.exist,
                attachment_name=name,
                created_at=repo.now(),
            )
            self._events.before_change(KIND, [row.id], silent=True)
            policyinfo_repo.insert_policyinfo(conn, record=row)
        self._notifier.router_changed(router.id)
        return self.get(principal, row.id)

    def restore(
        self, principal: Principal, record_id: str, values: Mapping[str, Any] | None
    ) -> None:
        """The record ``record_id`` as a revision had it (``values``: its columns) or
        gone (None), in the caller's unit of work: a rollback restores the policy and
        the attachment a record made through their own services, and the record here."""
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            current = policyinfo_repo.get_policyinfo(conn, record_id=record_id)
            router = values["router_uuid"] if values is not None else None
            for router_id in {router, current.router_uuid if current else None} - {None}:
                visible_owner(conn, principal, ROUTER, str(router_id))
            self._events.before_change(KIND, [record_id], silent=True)
            if current is not None:
                policyinfo_repo.delete_policyinfo(conn, record_id=record_id)
            if values is not None:
                kept: dict[str, Any] = {
                    f.name: values.get(f.name) for f in fields(PolicyInfoRecord)
                }
                record = PolicyInfoRecord(**{**kept, "id": record_id, "created_at": repo.now()})
                policyinfo_repo.insert_policyinfo(conn, record=record)
            if router is not None:
                self._notifier.router_changed(router)

    def _view(self, conn: Connection, row: PolicyInfoRecord) -> PolicyInfoView:
        router = repo.get_router(conn, key=row.router_uuid)
        attachment = owned_rows.get_by_key(
            conn, AttachmentRecord, router_id=row.router_uuid, key=row.attachment_name
        )
        status = attachment.status if attachment else Status.PENDING_DELETE
        detail = attachment.status_detail if attachment else ""
        return PolicyInfoView(
            row,
            host_name=router.name if router else "",
            mgmt_addr=router.api_address if router else "",
            status=status,
            status_detail=detail,
        )

    def get(self, principal: Principal, row_id: str) -> PolicyInfoView:
        with reading(self._engine) as conn:
            row = policyinfo_repo.get_policyinfo(conn, record_id=row_id)
            found, _router = visible_owned(
                conn,
                principal,
                ROUTER,
                row,
                lambda r: r.router_uuid,
                kind="policyinfo",
                ident=row_id,
            )
            return self._view(conn, found)

    def list(self, principal: Principal, *, host_name: str | None) -> list[PolicyInfoView]:
        with reading(self._engine) as conn:
            router_id = None
            if host_name is not None:
                router_id = visible_owner(conn, principal, ROUTER, host_name).id
            rows = policyinfo_repo.list_policyinfos(conn, router_id=router_id)
            views = []
            for row in rows:
                owner = repo.get_router(conn, key=row.router_uuid)
                if owner is not None and may_see(principal, owner):
                    views.append(self._view(conn, row))
            return views

    def delete(self, principal: Principal, row_id: str) -> PolicyInfoView:
        principal.require_write()
        view = self.get(principal, row_id)
        record = view.record
        with unit_of_work(self._engine) as work:
            conn = work.conn
            router_id = record.router_uuid
            attachment = self._attachments.find(
                principal, router=router_id, key=record.attachment_name
            )
            if attachment is not None and attachment.status != Status.PENDING_DELETE:
                rest = [n for n in attachment.neighbors if n != record.apply_neighbor]
                if rest:
                    self._attachments.update(
                        principal,
                        attachment.id,
                        if_match=None,
                        changes=AttachmentUpdate(neighbors=rest),
                    )
                else:
                    self._attachments.delete(principal, attachment.id, if_match=None)
            self._events.before_change(KIND, [row_id], silent=True)
            policyinfo_repo.delete_policyinfo(conn, record_id=row_id)
            others = policyinfo_repo.policy_in_use(
                conn, router_id=router_id, policy_name=record.policy_name
            )
            policy = self._policies.find(principal, router=router_id, key=record.policy_name)
            if (
                not others
                and policy is not None
                and policy.description == MARK
                and policy.status != Status.PENDING_DELETE
            ):
                with suppress(Conflict):  # still attached elsewhere by hand: keep it
                    self._policies.delete(principal, policy.id, if_match=None)
        self._notifier.router_changed(router_id)
        return replace(view, status=Status.PENDING_DELETE)
