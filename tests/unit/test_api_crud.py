"""One generic CRUD suite, parameterised per resource (routers, neighbors): list,
show, create, update, delete, validation and authentication, against the real API
over SQLite with a FakeSpeaker standing in for gobgpd."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.conftest import wait_for

ROUTER: dict[str, Any] = {
    "name": "GoBGP-1",
    "router_id": "10.0.1.1",
    "asn": 65001,
    "api_address": "unix:///run/sdwan/gobgp1.sock",
}


@dataclass
class Resource:
    path: str
    key_field: str  # what show/update/delete address it by
    valid: list[dict[str, Any]]  # three valid distinct bodies
    update: dict[str, Any]
    invalid: list[tuple[dict[str, Any], str]]  # (body changes, field named in the error)
    setup: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


ROUTERS = Resource(
    path="/v1/routers",
    key_field="name",
    valid=[
        ROUTER,
        {
            "name": "GoBGP-2",
            "router_id": "10.0.1.2",
            "asn": 4200000000,
            "api_address": "192.0.2.2:50051",
        },
        {
            "name": "GoBGP-3",
            "router_id": "10.0.1.3",
            "asn": 65001,
            "api_address": "[2001:db8::3]:50051",
            "listen_port": -1,
        },
    ],
    update={"description": "edge router", "listen_port": 1179},
    invalid=[
        ({"router_id": "10.0.1"}, "router_id"),
        ({"router_id": "2001:db8::1"}, "router_id"),
        ({"asn": 0}, "asn"),
        ({"asn": 4294967296}, "asn"),
        ({"asn": "65001"}, "asn"),
        ({"api_address": "not an address"}, "api_address"),
        ({"name": "bad name"}, "name"),
        ({"listen_port": 70000}, "listen_port"),
        ({"colour": "blue"}, "colour"),
    ],
)

NEIGHBORS = Resource(
    path="/v1/neighbors",
    key_field="id",
    setup=[("/v1/routers", ROUTER)],
    valid=[
        {"router": "GoBGP-1", "address": "198.18.11.11", "peer_asn": 65000},
        {
            "router": "GoBGP-1",
            "address": "2001:db8::11",
            "peer_asn": 65000,
            "hold_time": 9,
            "keepalive_interval": 3,
        },
        {
            "router": "GoBGP-1",
            "address": "198.18.11.12",
            "peer_asn": 65001,
            "route_reflector_client": True,
            "password": "s3cret",
        },
    ],
    update={"description": "upstream", "hold_time": 30, "keepalive_interval": 10},
    invalid=[
        ({"address": "198.18.11"}, "address"),
        ({"peer_asn": 0}, "peer_asn"),
        ({"peer_asn": 4294967296}, "peer_asn"),
        ({"router": "nope"}, "router"),
        ({"hold_time": 2}, "hold_time"),
        ({"keepalive_interval": 90}, "keepalive_interval"),
        ({"families": ["l2vpn-evpn"]}, "families"),
        ({"local_address": "2001:db8::1"}, "local_address"),
        ({"passive": "yes"}, "passive"),
        ({"api_address": "unix:///elsewhere.sock"}, "api_address"),
        ({"mgmt": 1}, "mgmt"),
    ],
)


NEIGHBOR_OF_ROUTER = (
    "/v1/neighbors",
    {"router": "GoBGP-1", "address": "198.18.31.3", "peer_asn": 65001},
)

DEFINED_SETS = Resource(
    path="/v1/defined-sets",
    key_field="id",
    setup=[("/v1/routers", ROUTER)],
    valid=[
        {
            "router": "GoBGP-1",
            "name": "far",
            "type": "prefix",
            "members": ["203.0.113.0/24", {"prefix": "198.51.100.0/24", "ge": 25, "le": 28}],
        },
        {"router": "GoBGP-1", "name": "ups", "type": "neighbor", "members": ["198.18.11.11"]},
        {
            "router": "GoBGP-1",
            "name": "tags",
            "type": "community",
            "members": ["65001:100", "no-export", "^65001:.*$"],
        },
    ],
    update={"description": "far networks", "members": [{"prefix": "203.0.113.0/24"}]},
    invalid=[
        ({"members": [{"prefix": "203.0.113.0/24", "ge": 20}]}, "members"),
        ({"members": ["203.0.113.1/24"]}, "members"),
        ({"type": "colour"}, "type"),
        ({"name": "a.b"}, "name"),
        ({"router": "nope"}, "router"),
        ({"extra": 1}, "extra"),
    ],
)

POLICIES = Resource(
    path="/v1/policies",
    key_field="id",
    setup=[
        ("/v1/routers", ROUTER),
        (
            "/v1/defined-sets",
            {"router": "GoBGP-1", "name": "far", "type": "prefix", "members": ["203.0.113.0/24"]},
        ),
    ],
    valid=[
        {
            "router": "GoBGP-1",
            "name": "nh-self",
            "statements": [{"actions": {"next_hop": "self", "disposition": "accept"}}],
        },
        {
            "router": "GoBGP-1",
            "name": "prefer",
            "statements": [{"conditions": {"prefix_set": "far"}, "actions": {"local_pref": 200}}],
        },
        {
            "router": "GoBGP-1",
            "name": "tag",
            "statements": [
                {
                    "actions": {
                        "communities": {"add": ["65001:1"]},
                        "med": {"subtract": 5},
                        "as_path_prepend": {"times": 2},
                    }
                }
            ],
        },
    ],
    update={
        "description": "v2",
        "statements": [{"name": "s1", "actions": {"disposition": "reject"}}],
    },
    invalid=[
        (
            {"statements": [{"conditions": {"prefix_set": "missing"}}]},
            "statements[0].conditions.prefix_set",
        ),
        (
            {"statements": [{"conditions": {"neighbor_set": "far"}}]},
            "statements[0].conditions.neighbor_set",
        ),
        ({"statements": []}, "statements"),
        ({"statements": [{"actions": {"med": {"set": 1, "add": 2}}}]}, "statements[0].actions.med"),
        ({"statements": [{"actions": {"communities": {"add": ["x:y"]}}}]}, "statements[0].actions"),
        (
            {
                "statements": [
                    {
                        "conditions": {"family": "ipv6-unicast"},
                        "actions": {"next_hop": "198.18.0.1"},
                    }
                ]
            },
            "statements[0]",
        ),
        ({"statements": [{"name": "a"}, {"name": "a"}]}, "body"),
    ],
)

ATTACHMENTS = Resource(
    path="/v1/policy-attachments",
    key_field="id",
    setup=[
        ("/v1/routers", ROUTER),
        NEIGHBOR_OF_ROUTER,
        (
            "/v1/policies",
            {
                "router": "GoBGP-1",
                "name": "p1",
                "statements": [{"actions": {"disposition": "accept"}}],
            },
        ),
    ],
    valid=[
        {
            "router": "GoBGP-1",
            "name": "to-i1",
            "direction": "export",
            "policies": ["p1"],
            "neighbors": ["198.18.31.3"],
        },
        {
            "router": "GoBGP-1",
            "name": "in-all",
            "direction": "import",
            "policies": ["p1"],
            "default_action": "accept",
        },
        {
            "router": "GoBGP-1",
            "name": "out-all",
            "direction": "export",
            "policies": ["p1"],
            "priority": 5,
        },
    ],
    update={"description": "moved", "neighbors": []},
    invalid=[
        ({"policies": ["missing"]}, "policies[0]"),
        ({"neighbors": ["198.18.99.99"]}, "neighbors[0]"),
        ({"direction": "sideways"}, "direction"),
        ({"policies": []}, "policies"),
        ({"default_action": "maybe"}, "default_action"),
    ],
)

ANNOUNCEMENTS = Resource(
    path="/v1/announcements",
    key_field="id",
    setup=[("/v1/routers", ROUTER)],
    valid=[
        {"router": "GoBGP-1", "prefix": "203.0.113.0/24"},
        {
            "router": "GoBGP-1",
            "prefix": "2001:db8:100::/48",
            "next_hop": "2001:db8::1",
            "as_path_prepend": 2,
        },
        {
            "router": "GoBGP-1",
            "prefix": "198.51.100.0/24",
            "med": 10,
            "local_pref": 200,
            "communities": ["65001:100", "no-export"],
            "large_communities": ["65001:1:2"],
        },
    ],
    update={"description": "anycast", "med": 20},
    invalid=[
        ({"prefix": "203.0.113.1/24"}, "prefix"),
        ({"next_hop": "2001:db8::1"}, "next_hop"),
        ({"communities": ["65536:1"]}, "communities[0]"),
        ({"origin": "bgp"}, "origin"),
        ({"as_path_prepend": 17}, "as_path_prepend"),
    ],
)


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
