"""The audit log: who, when, from where, what (before/after, secrets masked), written
in the change's own transaction, filtered by project for non-admins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from sdwan.auth.principal import Principal, Role
from sdwan.runtime import Runtime
from sdwan.schemas.routers import RouterCreate
from sdwan.service import audit
from sdwan.service.common import ListQuery
from sdwan.service.uow import unit_of_work
from tests.support.api import ADMIN_TOKEN, ROUTER
from tests.support.identity import PASSWORD, add_user, bearer, login

SECRET = "n3ighb0r-s3cret"
HOOK_SECRET = "w3bh00k-s3cret-0123456789"


def _entries(client: TestClient, **params: str) -> list[dict[str, Any]]:
    answer = client.get("/v1/audit", params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_router_lifecycle_is_audited_with_before_and_after(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    alice = bearer(login(client, "alice"))
    made = client.post("/v1/routers", json=ROUTER, headers=alice).json()
    client.patch(f"/v1/routers/{made['id']}", json={"asn": 65002}, headers=alice)
    client.delete(f"/v1/routers/{made['id']}", headers=alice)
    entries = _entries(client, resource_id=made["id"])
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    delete, update, create = entries
    assert create["before"] is None and create["after"]["asn"] == 65001
    assert update["before"]["asn"] == 65001 and update["after"]["asn"] == 65002
    assert delete["before"]["asn"] == 65002 and delete["after"] is None
    assert "conditions" not in update["before"] | update["after"]  # the reconciler's
    for entry in entries:
        assert entry["actor"] == "alice" and entry["actor_role"] == "member"
        assert entry["project_id"] == "blue" and entry["source"] == "testclient"
        assert entry["resource_name"] == "GoBGP-1"


def test_secrets_are_masked_everywhere(
    client: TestClient, capfd: pytest.CaptureFixture[str], runtime: Runtime
) -> None:
    client.post("/v1/routers", json=ROUTER)
    body = {"router": "GoBGP-1", "address": "198.18.11.11", "peer_asn": 65000}
    made = client.post("/v1/neighbors", json={**body, "password": SECRET}).json()
    client.patch(f"/v1/neighbors/{made['id']}", json={"password": SECRET + "2"})
    add_user(client, "alice", "blue", "member")
    login(client, "alice")
    created = client.post("/v1/tokens", json={"name": "ci", "project": "blue"}).json()
    hook = {"name": "pager", "url": "http://127.0.0.1:9/hook", "secret": HOOK_SECRET}
    assert client.post("/v1/webhooks", json=hook).status_code == 201
    log = client.get("/v1/audit", params={"limit": 1000}).text
    for secret in (SECRET, PASSWORD, created["token"], ADMIN_TOKEN, HOOK_SECRET):
        assert secret not in log
    neighbor = _entries(client, resource_type="neighbor")
    assert neighbor[0]["after"]["password"] == audit.MASK
    out, err = capfd.readouterr()
    for secret in (SECRET, PASSWORD, created["token"], HOOK_SECRET):
        assert secret not in out and secret not in err
    with runtime.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            dump = "\n".join(conn.connection.driver_connection.iterdump())  # type: ignore[union-attr]
        else:  # every row of every table
            tables = inspect(conn).get_table_names()
            rows = [conn.execute(text(f'SELECT * FROM "{name}"')).all() for name in tables]
            dump = "\n".join(repr(row) for table in rows for row in table)
    for secret in (SECRET, PASSWORD, created["token"], ADMIN_TOKEN, HOOK_SECRET):
        assert secret not in dump  # neither in the audit log nor anywhere at rest


def test_identity_changes_and_logins_are_audited(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    login(client, "alice")
    actions = {(e["resource_type"], e["action"]) for e in _entries(client)}
    assert {("project", "create"), ("user", "create"), ("role_assignment", "grant")} <= actions
    assert ("token", "login") in actions


def test_non_admins_see_only_their_project(client: TestClient) -> None:
    add_user(client, "alice", "blue", "reader")
    add_user(client, "bob", "red", "member")
    bob = bearer(login(client, "bob"))
    client.post("/v1/routers", json=ROUTER, headers=bob)
    alice = bearer(login(client, "alice"))
    mine = client.get("/v1/audit", headers=alice).json()["items"]
    assert mine and all(e["project_id"] == "blue" for e in mine)
    theirs = client.get("/v1/audit", params={"project": "red"}, headers=alice).json()
    assert theirs["total"] == 0
    assert any(e["resource_type"] == "router" for e in _entries(client, project="red"))


def test_audit_row_rolls_back_with_the_change(runtime: Runtime) -> None:
    """A change rolled back after it was written leaves neither it nor its audit row."""
    admin = Principal("admin", Role.ADMIN, None)
    query = audit.AuditQuery(resource_type="router")
    with pytest.raises(RuntimeError, match="later failure"), unit_of_work(runtime.engine):
        runtime.services.routers.create_many(admin, items=[RouterCreate.model_validate(ROUTER)])
        inside = runtime.services.audit.list(admin, query, limit=10, offset=0)
        assert inside.total == 1  # written in the change's transaction...
        raise RuntimeError("later failure")
    assert runtime.services.audit.list(admin, query, limit=10, offset=0).total == 0  # ...and undone
    assert runtime.services.routers.list(admin, ListQuery()).total == 0
    runtime.services.routers.create_many(admin, items=[RouterCreate.model_validate(ROUTER)])
    page = runtime.services.audit.list(admin, query, limit=10, offset=0)
    assert page.total == 1 and page.items[0]["actor"] == "system"


def test_filters_and_bad_filters(client: TestClient) -> None:
    client.post("/v1/routers", json=ROUTER)
    assert _entries(client, actor="bootstrap-admin", action="create")
    assert _entries(client, actor="nobody") == []
    assert client.get("/v1/audit", params={"since": "yesterday"}).status_code == 422
    assert client.get("/v1/audit", params={"limit": 0}).status_code == 422


def test_cli_audit(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from sdwan.cli.client import State
    from sdwan.cli.main import app

    monkeypatch.setenv("SDWAN_URL", "http://testserver")
    monkeypatch.setenv("SDWAN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("SDWAN_CONFIG", str(tmp_path / "c.yaml"))
    made = client.post("/v1/routers", json=ROUTER).json()
    client.patch(f"/v1/routers/{made['id']}", json={"description": "x"})
    result = CliRunner().invoke(
        app, ["audit", "--type", "router"], obj=State(transport=client._transport)
    )
    assert result.exit_code == 0, result.output
    assert "update" in result.output and "description" in result.output
