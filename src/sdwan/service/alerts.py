"""Alerts as the API lists them: read-only (the alert controller writes them), in the
caller's project (admins: every project)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.domain.alerts import AlertState
from sdwan.errors import InvalidInput
from sdwan.service.common import ListQuery, Page
from sdwan.service.project_owned import visible_row
from sdwan.service.uow import reading
from sdwan.service.visibility import Scope, visible_page
from sdwan.store import alert_repo
from sdwan.store.alert_repo import AlertRecord

# the list's filters by the names the API uses -> the store's columns
FILTERS = {
    "state": "state",
    "severity": "severity",
    "kind": "kind",
    "rule": "rule_name",
    "router": "router_name",
}


class AlertService:
    kind = "alert"

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    def list(self, principal: Principal, query: ListQuery) -> Page[AlertRecord]:
        """``filters``: state (firing, resolved), severity, kind, rule (its name),
        router (its name); an admin's project_id."""
        state = query.filters.get("state")
        if state is not None and state not in set(AlertState):
            raise InvalidInput(f"state: firing or resolved, not {state!r}", field="state")

        def rows(conn: Connection, scope: Scope) -> tuple[list[AlertRecord], int]:
            args = scope.store_args(query)
            args["filters"] = {FILTERS[k]: v for k, v in scope.filters.items() if k in FILTERS}
            return alert_repo.list_alerts(conn, **args)

        return visible_page(self._engine, principal, query, None, rows, lambda _c, r: r)

    def get(self, principal: Principal, ident: str) -> AlertRecord:
        with reading(self._engine) as conn:
            return visible_row(
                conn, principal, lambda c, i: alert_repo.get_alert(c, alert_id=i), ident, "alert"
            )
