"""One generic CRUD suite, parameterised per resource (routers, neighbors): list,
show, create, update, delete, validation and authentication, against the real API
over SQLite with a FakeSpeaker standing in for gobgpd."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.resources import (
    ANNOUNCEMENTS,
    ATTACHMENTS,
    DEFINED_SETS,
    NEIGHBORS,
    POLICIES,
    ROUTERS,
    Resource,
)
from tests.support.waits import wait_for


@pytest.fixture(
    params=[ROUTERS, NEIGHBORS, DEFINED_SETS, POLICIES, ATTACHMENTS, ANNOUNCEMENTS],
    ids=["routers", "neighbors", "defined-sets", "policies", "attachments", "announcements"],
)
def resource(request: pytest.FixtureRequest, client: TestClient) -> Resource:
    res: Resource = request.param
    for path, body in res.setup:
        assert client.post(path, json=body).status_code == 201
    return res


def _create(client: TestClient, res: Resource, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(res.path, json=body)
    assert answer.status_code == 201, answer.text
    assert answer.headers["ETag"] == '"1"'
    created: dict[str, Any] = answer.json()
    return created


def test_create_show_list(client: TestClient, resource: Resource) -> None:
    created = [_create(client, resource, body) for body in resource.valid]
    assert all(c["status"] == "PENDING_CREATE" for c in created)
    shown = client.get(f"{resource.path}/{created[0][resource.key_field]}")
    assert shown.status_code == 200
    assert shown.json()["id"] == created[0]["id"]
    listed = client.get(resource.path, params={"limit": 2}).json()
    assert listed["total"] == 3 and len(listed["items"]) == 2
    rest = client.get(resource.path, params={"limit": 2, "offset": 2}).json()
    ids = {i["id"] for i in listed["items"]} | {i["id"] for i in rest["items"]}
    assert ids == {c["id"] for c in created}


def test_secrets_never_returned(client: TestClient, resource: Resource) -> None:
    for body in resource.valid:
        _create(client, resource, body)
    text = client.get(resource.path).text
    assert "s3cret" not in text and '"password"' not in text


def test_reconciled_to_active(client: TestClient, resource: Resource) -> None:
    created = _create(client, resource, resource.valid[0])
    url = f"{resource.path}/{created[resource.key_field]}"
    wait_for(lambda: client.get(url).json()["status"] == "ACTIVE", what="ACTIVE")


def test_update_bumps_version_and_if_match(client: TestClient, resource: Resource) -> None:
    created = _create(client, resource, resource.valid[0])
    url = f"{resource.path}/{created[resource.key_field]}"
    answer = client.patch(url, json=resource.update, headers={"If-Match": '"1"'})
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == '"2"'
    assert {k: answer.json()[k] for k in resource.update} == resource.update
    stale = client.patch(url, json={"description": "lost update"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert client.get(url).json()["description"] == resource.update["description"]


def test_update_without_change_keeps_version(client: TestClient, resource: Resource) -> None:
    created = _create(client, resource, resource.valid[0])
    url = f"{resource.path}/{created[resource.key_field]}"
    answer = client.patch(url, json={"description": created["description"]})
    assert answer.status_code == 200 and answer.headers["ETag"] == '"1"'


def test_update_rejects_null_and_unknown(client: TestClient, resource: Resource) -> None:
    created = _create(client, resource, resource.valid[0])
    url = f"{resource.path}/{created[resource.key_field]}"
    for body, name in ([{"description": None}, "description"], [{"bogus": 1}, "bogus"]):
        answer = client.patch(url, json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == name


def test_invalid_input_names_the_field(client: TestClient, resource: Resource) -> None:
    for change, name in resource.invalid:
        answer = client.post(resource.path, json={**resource.valid[0], **change})
        assert 400 <= answer.status_code < 500, (change, answer.text)
        error = answer.json()["error"]
        fields = {error["field"]} | {d["field"] for d in error["details"]}
        assert name in fields, (change, error)
        assert error["message"]
    assert client.get(resource.path).json()["total"] == 0


def test_duplicate_is_conflict(client: TestClient, resource: Resource) -> None:
    _create(client, resource, resource.valid[0])
    answer = client.post(resource.path, json=resource.valid[0])
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "conflict"


def test_bulk_is_all_or_nothing(client: TestClient, resource: Resource) -> None:
    bad = {**resource.valid[2], **resource.invalid[0][0]}
    answer = client.post(f"{resource.path}/bulk", json={"items": [*resource.valid[:2], bad]})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"].startswith("items[2].")
    assert client.get(resource.path).json()["total"] == 0
    good = client.post(f"{resource.path}/bulk", json={"items": resource.valid})
    assert good.status_code == 201 and good.json()["total"] == 3
    assert client.get(resource.path).json()["total"] == 3


def test_bulk_duplicate_within_request(client: TestClient, resource: Resource) -> None:
    answer = client.post(
        f"{resource.path}/bulk", json={"items": [resource.valid[0], resource.valid[0]]}
    )
    assert answer.status_code == 409
    assert "items[1]" in answer.json()["error"]["message"]


def test_delete_then_gone(client: TestClient, resource: Resource) -> None:
    created = _create(client, resource, resource.valid[0])
    url = f"{resource.path}/{created[resource.key_field]}"
    assert client.delete(url, headers={"If-Match": '"7"'}).status_code == 412
    answer = client.delete(url)
    assert answer.status_code == 202 and answer.json()["status"] == "PENDING_DELETE"
    wait_for(lambda: client.get(url).status_code == 404, what="deletion")


def test_unknown_is_404(client: TestClient, resource: Resource) -> None:
    for method in ("get", "patch", "delete"):
        kwargs: dict[str, Any] = {"json": {}} if method == "patch" else {}
        answer = getattr(client, method)(f"{resource.path}/no-such-thing", **kwargs)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"


def test_authentication_required(client: TestClient, resource: Resource) -> None:
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic abc"},
    ):
        answer = client.get(resource.path, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "not_authenticated"
    assert (
        client.post(
            resource.path, json=resource.valid[0], headers={"Authorization": "Bearer wrong"}
        ).status_code
        == 401
    )
    assert client.get(resource.path).json()["total"] == 0


def test_sort_and_filter(client: TestClient, resource: Resource) -> None:
    for body in resource.valid:
        _create(client, resource, body)
    bad = client.get(resource.path, params={"sort": "password"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "sort"
    assert client.get(resource.path, params={"limit": 0}).status_code == 422
    status = client.get(resource.path, params={"status": "NOPE"}).json()
    assert status["total"] == 0


def test_only_health_is_open(client: TestClient) -> None:
    open_client = TestClient(client.app)
    assert open_client.get("/healthz").json() == {"status": "ok"}
    for path in ("/v1/openapi.json", "/docs", "/openapi.json", "/v1/routers"):
        assert open_client.get(path).status_code in (401, 404), path
    schema = client.get("/v1/openapi.json").json()
    assert "/v1/neighbors/bulk" in schema["paths"]
