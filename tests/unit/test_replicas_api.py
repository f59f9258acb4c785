"""GET /v1/replicas and the routers' owner, on both backends: one process on SQLite
drives everything; on PostgreSQL it is a replica that registered itself and took the
router's lease."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from sdwan.runtime import Runtime
from tests.support.api import ROUTER
from tests.support.identity import add_user, bearer, login
from tests.support.waits import wait_for


def test_the_replica_list_and_who_drives_each_router(client: TestClient, runtime: Runtime) -> None:
    name = runtime.settings.replica
    made = client.post("/v1/routers", json=ROUTER)
    assert made.status_code == 201, made.text

    def owned() -> dict[str, Any] | None:
        body = client.get(f"/v1/routers/{made.json()['id']}").json()
        return body if body["owner"] == name else None

    wait_for(owned, what="the router owned")
    assert [r["owner"] for r in client.get("/v1/routers").json()["items"]] == [name]
    replicas = client.get("/v1/replicas")
    assert replicas.status_code == 200, replicas.text
    (me,) = replicas.json()["items"]
    assert (me["name"], me["live"], me["this"], me["routers"]) == (name, True, True, 1)
    assert 0 <= me["heartbeat_age"] < runtime.settings.lease_duration
    assert replicas.json()["total"] == 1


def test_project_scoped_callers_may_not_list_replicas(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    answer = client.get("/v1/replicas", headers=bearer(login(client, "alice")))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"
