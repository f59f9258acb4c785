"""Webhooks: where a project's events and alerts are posted, owned by the project
(readers read, members write, admins see every project). The URL must reach an
address the admins allow (service/webhook_addresses.py); the secret is write-only and
sealed at rest like a BGP password. A new hook gets the events after its creation;
the dispatcher (alerting/dispatcher.py) queues and delivers them."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.domain.webhooks import kinds_ok
from sdwan.errors import Conflict, InvalidInput
from sdwan.schemas.alerts import WebhookCreate, WebhookUpdate
from sdwan.secretbox import SecretBox
from sdwan.service.common import ListQuery, NoNotifier, Page, Written
from sdwan.service.project_owned import ProjectOwnedService, project_for_new
from sdwan.service.resource_events import EventSink
from sdwan.service.uow import reading, unit_of_work
from sdwan.service.visibility import Scope
from sdwan.service.webhook_addresses import WebhookAddressPolicy
from sdwan.store import identity_repo, live_repo, repo, webhook_repo
from sdwan.store.webhook_repo import DeliveryRecord, WebhookRecord


@dataclass(frozen=True)
class WebhookView:
    record: WebhookRecord
    pending: int  # deliveries waiting


class WebhookService(ProjectOwnedService[WebhookRecord, WebhookView]):
    kind = "webhook"
    resource_type = "webhook"

    def __init__(
        self,
        *,
        engine: Engine,
        secrets: SecretBox,
        addresses: WebhookAddressPolicy,
        events: EventSink | None = None,
    ) -> None:
        super().__init__(engine=engine, notifier=NoNotifier(), events=events)
        self._secrets = secrets
        self._addresses = addresses

    def get_row(self, conn: Connection, ident: str) -> WebhookRecord | None:
        return webhook_repo.get_hook(conn, webhook_id=ident)

    def insert_row(self, conn: Connection, values: Mapping[str, Any]) -> None:
        webhook_repo.insert_hook(conn, values=values)

    def update_row(self, conn: Connection, row: WebhookRecord, values: Mapping[str, Any]) -> bool:
        return webhook_repo.update_hook(
            conn, webhook_id=row.id, expected_version=row.version, values=values
        )

    def delete_row(self, conn: Connection, row: WebhookRecord) -> bool:
        """Its queue and its delivery log go with it."""
        return webhook_repo.delete_hook(conn, webhook_id=row.id, expected_version=row.version)

    def rows(
        self, conn: Connection, scope: Scope, query: ListQuery
    ) -> tuple[builtins.list[WebhookRecord], int]:
        return webhook_repo.list_hooks(conn, **scope.store_args(query))

    def views(
        self, conn: Connection, rows: builtins.list[WebhookRecord]
    ) -> builtins.list[WebhookView]:
        counts = webhook_repo.pending_count(conn, webhook_ids=[r.id for r in rows])
        return [WebhookView(r, counts.get(r.id, 0)) for r in rows]

    def create(self, principal: Principal, body: WebhookCreate) -> WebhookView:
        principal.require_write()
        with unit_of_work(self._engine) as work:
            conn = work.conn
            project = project_for_new(conn, principal, body.project, self.kind)
            if webhook_repo.hook_named(conn, project_id=project, name=body.name) is not None:
                raise Conflict(
                    f"name: project {project} already has a webhook {body.name!r}", field="name"
                )
            url = self._url(conn, project, body.url)
            _check_filter(body.filter.model_dump())
            stamp = repo.now()
            made = self.insert(
                conn,
                {
                    "id": repo.new_id(),
                    "project_id": project,
                    "name": body.name,
                    "url": url,
                    "format": body.format,
                    "filter": body.filter.model_dump(),
                    "secret_sealed": self._secrets.seal(body.secret),
                    "enabled": body.enabled,
                    "description": body.description,
                    "start_event_id": live_repo.last_event_id(conn),
                    "version": 1,
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
            return WebhookView(made, 0)

    def update(
        self, principal: Principal, ident: str, *, changes: WebhookUpdate, if_match: int | None
    ) -> Written[WebhookView]:
        sent = changes.changes()
        with self.target(principal, ident, if_match) as (conn, hook, _):
            values: dict[str, Any] = {}
            if "url" in sent:
                values["url"] = self._url(conn, hook.project_id, sent.pop("url"))
            if "secret" in sent:
                values["secret_sealed"] = self._secrets.seal(sent.pop("secret"))
            if "filter" in sent:
                _check_filter(sent["filter"])
            values.update(sent)
            values = {
                k: v for k, v in values.items() if k == "secret_sealed" or getattr(hook, k) != v
            }
            return Written(self.view(conn, self.write(conn, hook, values, if_match)))

    def delete(self, principal: Principal, ident: str, *, if_match: int | None) -> WebhookView:
        """Its queue (deliveries not made) and its delivery log go with it."""
        with self.target(principal, ident, if_match) as (conn, hook, _):
            view = self.view(conn, hook)
            self.remove(conn, hook, if_match)
            return view

    def deliveries(
        self, principal: Principal, ident: str, *, limit: int, offset: int
    ) -> Page[DeliveryRecord]:
        """The hook's delivery log, newest first: one entry per attempt."""
        with reading(self._engine) as conn:
            hook, _ = self.found(conn, principal, ident)
            items, total = webhook_repo.list_deliveries(
                conn, webhook_id=hook.id, limit=limit, offset=offset
            )
        return Page(items, total, limit, offset)

    def _url(self, conn: Connection, project: str, text: str) -> str:
        allow = identity_repo.webhook_allowlist(conn, project)
        return self._addresses.check(text, allow, project=project, field="url").text


def _check_filter(value: dict[str, Any]) -> None:
    bad = kinds_ok(value.get("kinds") or [])
    if bad is not None:
        raise InvalidInput(
            f"filter.kinds: {bad!r} is not an event kind or a prefix such as alert.*",
            field="filter.kinds",
        )
