"""Alert rules: what operators page for, owned by a project (readers read, members
write, admins see every project). The alert controller (alerting/controller.py)
evaluates the enabled ones; this checks what a rule says before it is stored: its
threshold fits its kind, its scope names what the kind takes and what exists in its
project, its labels are label names."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from sdwan.auth.principal import Principal
from sdwan.domain.alerts import (
    SCOPES,
    AlertKind,
    check_labels,
    check_scope,
    check_threshold,
)
from sdwan.errors import Conflict, InvalidInput, PermissionDenied
from sdwan.schemas.alerts import AlertRuleCreate, AlertRuleUpdate
from sdwan.service.common import ListQuery, Written
from sdwan.service.project_owned import ProjectOwnedService, project_for_new
from sdwan.service.uow import unit_of_work
from sdwan.service.visibility import Scope
from sdwan.store import alert_repo, intent_repo, repo
from sdwan.store.alert_repo import AlertRuleRecord
from sdwan.store.intent_repo import IntentRecord, SiteRecord, UplinkRecord

MOST_SITES_SEARCHED = 1000  # an intent or uplink named without its site: looked up here


@dataclass(frozen=True)
class AlertRuleView:
    record: AlertRuleRecord
    firing: int  # its alerts firing now


class AlertRuleService(ProjectOwnedService[AlertRuleRecord, AlertRuleView]):
    kind = "alert rule"
    resource_type = "alert_rule"

    def get_row(self, conn: Connection, ident: str) -> AlertRuleRecord | None:
        return alert_repo.get_rule(conn, rule_id=ident)

    def insert_row(self, conn: Connection, values: Mapping[str, Any]) -> None:
        alert_repo.insert_rule(conn, values=values)

    def update_row(self, conn: Connection, row: AlertRuleRecord, values: Mapping[str, Any]) -> bool:
        return alert_repo.update_rule(
            conn, rule_id=row.id, expected_version=row.version, values=values
        )

    def delete_row(self, conn: Connection, row: AlertRuleRecord) -> bool:
        return alert_repo.delete_rule(conn, rule_id=row.id, expected_version=row.version)

    def rows(
        self, conn: Connection, scope: Scope, query: ListQuery
    ) -> tuple[builtins.list[AlertRuleRecord], int]:
        return alert_repo.list_rules(conn, **scope.store_args(query))

    def views(
        self, conn: Connection, rows: builtins.list[AlertRuleRecord]
    ) -> builtins.list[AlertRuleView]:
        counts: dict[str, int] = {}
        for alert in alert_repo.firing(conn):
            counts[alert.rule_id] = counts.get(alert.rule_id, 0) + 1
        return [AlertRuleView(r, counts.get(r.id, 0)) for r in rows]

    def create(self, principal: Principal, body: AlertRuleCreate) -> AlertRuleView:
        principal.require_write()
        kind = AlertKind(body.kind)
        with unit_of_work(self._engine) as work:
            conn = work.conn
            project = project_for_new(conn, principal, body.project, self.kind)
            if alert_repo.rule_named(conn, project_id=project, name=body.name) is not None:
                raise Conflict(
                    f"name: project {project} already has an alert rule {body.name!r}",
                    field="name",
                )
            scope = self._checked(conn, principal, project, kind, body.model_dump(mode="json"))
            stamp = repo.now()
            made = self.insert(
                conn,
                {
                    "id": repo.new_id(),
                    "project_id": project,
                    "name": body.name,
                    "kind": kind.value,
                    "threshold": float(body.threshold),
                    "severity": body.severity,
                    "scope": scope,
                    "labels": dict(body.labels),
                    "enabled": body.enabled,
                    "description": body.description,
                    "version": 1,
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
            return AlertRuleView(made, 0)

    def update(
        self,
        principal: Principal,
        ident: str,
        *,
        changes: AlertRuleUpdate,
        if_match: int | None,
    ) -> Written[AlertRuleView]:
        sent = changes.changes()
        with self.target(principal, ident, if_match) as (conn, rule, _):
            merged = {
                "threshold": rule.threshold,
                "scope": rule.scope,
                "labels": rule.labels,
                **sent,
            }
            scope = self._checked(conn, principal, rule.project_id, AlertKind(rule.kind), merged)
            if "scope" in sent:
                sent["scope"] = scope
            values = {k: v for k, v in sent.items() if getattr(rule, k) != v}
            return Written(self.view(conn, self.write(conn, rule, values, if_match)))

    def delete(self, principal: Principal, ident: str, *, if_match: int | None) -> AlertRuleView:
        """Its alerts stay in the history; those firing are resolved by the controller."""
        with self.target(principal, ident, if_match) as (conn, rule, _):
            view = self.view(conn, rule)
            self.remove(conn, rule, if_match)
            return view

    # --- rules -----------------------------------------------------------------

    def _checked(
        self,
        conn: Connection,
        principal: Principal,
        project: str,
        kind: AlertKind,
        values: Mapping[str, Any],
    ) -> dict[str, str]:
        """The rule's threshold, labels and scope checked for ``kind``; the scope as
        stored (the names given)."""
        if kind is AlertKind.REPLICA_LOST and principal.project_id is not None:
            raise PermissionDenied(
                f"{principal.name} is limited to project {principal.project_id}: replicas "
                "serve every project, so only admins of all projects watch them"
            )
        why = check_threshold(kind, float(values["threshold"]))
        if why is not None:
            raise InvalidInput(f"threshold: {why}", field="threshold")
        bad = check_labels(values.get("labels") or {})
        if bad is not None:
            where = f"labels.{bad[0]}" if bad[0] else "labels"
            raise InvalidInput(f"{where}: {bad[1]}", field=where)
        scope = {k: v for k, v in (values.get("scope") or {}).items() if v is not None}
        wrong = check_scope(kind, scope)
        if wrong is not None:
            taken = ", ".join(SCOPES[kind]) or "no scope"
            raise InvalidInput(
                f"scope.{wrong}: a {kind} rule takes {taken}", field=f"scope.{wrong}"
            )
        self._check_names(conn, project, scope)
        return scope

    def _check_names(self, conn: Connection, project: str, scope: Mapping[str, str]) -> None:
        """Each name in the scope names something of the project (422 naming it)."""
        router = scope.get("router")
        if router is not None:
            found = repo.get_router(conn, key=router)
            if found is None or found.project_id != project:
                raise InvalidInput(f"scope.router: no router {router!r}", field="scope.router")
        site: SiteRecord | None = None
        if scope.get("site") is not None:
            site = intent_repo.get_site(conn, key=scope["site"])
            if site is None or site.project_id != project:
                raise InvalidInput(f"scope.site: no site {scope['site']!r}", field="scope.site")
        sites = [site] if site is not None else None
        for name in ("intent", "uplink"):
            wanted = scope.get(name)
            if wanted is None:
                continue
            sites = sites if sites is not None else _project_sites(conn, project)
            if not any(_site_has(conn, s, name, wanted) for s in sites):
                where = f" in site {site.name}" if site is not None else ""
                raise InvalidInput(
                    f"scope.{name}: no {name} {wanted!r}{where}", field=f"scope.{name}"
                )


def _site_has(conn: Connection, site: SiteRecord, kind: str, name: str) -> bool:
    """Whether ``site`` has an intent (``kind`` "intent") or uplink named ``name``."""
    if kind == "intent":
        return intent_repo.owned_by_name(conn, IntentRecord, site_id=site.id, name=name) is not None
    return intent_repo.owned_by_name(conn, UplinkRecord, site_id=site.id, name=name) is not None


def _project_sites(conn: Connection, project: str) -> list[SiteRecord]:
    found, _ = intent_repo.list_sites(
        conn, project_id=project, filters={}, sort=None, limit=MOST_SITES_SEARCHED, offset=0
    )
    return found
