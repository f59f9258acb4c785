"""A router with one object of every kind it owns, and reads of the revision log, for
the revision and rollback tests (the API over FakeSpeakers)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "tcp-md5-secret-1"
OWNED: dict[
    str, dict[str, Any]
] = {  # path -> a create body (the router is added), in an order that resolves
    "/v1/defined-sets": {"name": "far", "type": "prefix", "members": ["203.0.113.0/24"]},
    "/v1/policies": {
        "name": "nh",
        "statements": [{"conditions": {"prefix_set": "far"}, "actions": {"next_hop": "self"}}],
    },
    "/v1/policy-attachments": {
        "name": "to-peer",
        "direction": "export",
        "policies": ["nh"],
        "neighbors": ["198.18.0.2"],
    },
    "/v1/announcements": {"prefix": "198.51.100.0/24", "med": 5},
}


def router(client: TestClient, name: str = "r1", project: str | None = None) -> str:
    """A router named ``name`` with a neighbor (with a password) and one of each policy
    object; its id."""
    number = sum(map(ord, name)) % 200 + 1
    body: dict[str, Any] = {
        "name": name,
        "router_id": f"192.0.2.{number}",
        "asn": 65001,
        "api_address": f"unix:///run/sdwan/{name}.sock",
    }
    if project:
        body["project"] = project
    made = client.post("/v1/routers", json=body)
    assert made.status_code == 201, made.text
    neighbor = {"router": name, "address": "198.18.0.2", "peer_asn": 65002, "password": PASSWORD}
    assert client.post("/v1/neighbors", json=neighbor).status_code == 201
    for path, item in OWNED.items():
        answer = client.post(path, json={**item, "router": name})
        assert answer.status_code == 201, answer.text
    return str(made.json()["id"])


def latest(client: TestClient, **headers: str) -> int:
    answer = client.get("/v1/revisions", headers=headers)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["latest"])


def revision(client: TestClient, number: int) -> dict[str, Any]:
    answer = client.get(f"/v1/revisions/{number}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def one_change(client: TestClient, number: int) -> dict[str, Any]:
    """The only change of revision ``number``."""
    changes = revision(client, number)["changes"]
    assert len(changes) == 1, changes
    change: dict[str, Any] = changes[0]
    return change


def neighbor_id(client: TestClient, router: str, address: str = "198.18.0.2") -> str:
    items = client.get("/v1/neighbors", params={"router": router}).json()["items"]
    return str(next(n["id"] for n in items if n["address"] == address))


def owned_id(client: TestClient, path: str, router: str) -> str:
    items = client.get(path, params={"router": router}).json()["items"]
    assert len(items) == 1, items
    return str(items[0]["id"])
