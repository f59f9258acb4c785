"""The original demo's routers, neighbors, site and uplinks through the API (a
FakeSpeaker behind each router), for the intent API and fleet tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

ROUTERS = [
    ("GoBGP-1", "198.18.0.1", [("198.18.11.11", 65000), ("198.18.31.3", 65001)]),
    ("GoBGP-2", "198.18.0.2", [("198.18.22.22", 65000), ("198.18.32.3", 65001)]),
    (
        "GoBGP-3",
        "198.18.0.3",
        [("198.18.31.1", 65001), ("198.18.32.2", 65001), ("198.18.34.4", 65002)],
    ),
]
FAR = "203.0.113.0/24"
SITE = {
    "name": "hq",
    "routers": [{"router": "GoBGP-1"}, {"router": "GoBGP-2"}, {"router": "GoBGP-3"}],
    "prefixes": [{"prefix": "198.51.100.0/24"}],
}
UPLINKS = [
    {
        "site": "hq",
        "name": "vyos1",
        "router": "GoBGP-1",
        "neighbor": "198.18.11.11",
        "transport": "mpls",
        "cost": 10,
    },
    {
        "site": "hq",
        "name": "vyos2",
        "router": "GoBGP-2",
        "neighbor": "198.18.22.22",
        "transport": "internet",
        "cost": 20,
    },
]
INTENT = {
    "site": "hq",
    "name": "far",
    "destination": {"type": "prefixes", "prefixes": [{"prefix": FAR}]},
    "prefer": [["vyos1"], ["vyos2"]],
}


def routers(client: TestClient, project: str | None = None) -> None:
    for name, router_id, neighbors in ROUTERS:
        body: dict[str, Any] = {
            "name": name,
            "router_id": router_id,
            "asn": 65001,
            "api_address": f"unix:///run/sdwan/{name}.sock",
        }
        if project:
            body["project"] = project
        answer = client.post("/v1/routers", json=body)
        assert answer.status_code == 201, answer.text
        for address, asn in neighbors:
            answer = client.post(
                "/v1/neighbors", json={"router": name, "address": address, "peer_asn": asn}
            )
            assert answer.status_code == 201, answer.text


def site_with_uplinks(client: TestClient) -> None:
    routers(client)
    assert client.post("/v1/sites", json=SITE).status_code == 201
    for uplink in UPLINKS:
        answer = client.post("/v1/uplinks", json=uplink)
        assert answer.status_code == 201, answer.text


def generated(client: TestClient, path: str, router: str) -> dict[str, dict[str, Any]]:
    """The generated objects of ``path`` on ``router``, by name."""
    items = client.get(path, params={"router": router, "limit": 1000}).json()["items"]
    return {i["name"]: i for i in items if i.get("generated_by")}
