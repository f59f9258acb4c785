"""Fleet files through the API over a FakeSpeaker: parse errors name the object,
plan/apply/export round-trips, a failed check changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdwan.errors import InvalidInput
from sdwan.fleet.model import parse_fleet
from tests.support.waits import wait_for

FLEET: dict[str, Any] = {
    "routers": [
        {
            "name": "GoBGP-1",
            "router_id": "10.0.1.1",
            "asn": 65001,
            "api_address": "unix:///run/sdwan/gobgp1.sock",
            "neighbors": [
                {"address": "198.18.11.11", "peer_asn": 65000},
                {"address": "198.18.31.3", "peer_asn": 65001, "password": "pw"},
            ],
            "defined_sets": [{"name": "far", "type": "prefix", "members": ["203.0.113.0/24"]}],
            "policies": [
                {
                    "name": "nh",
                    "statements": [
                        {"conditions": {"prefix_set": "far"}, "actions": {"next_hop": "self"}}
                    ],
                }
            ],
            "attachments": [
                {
                    "name": "to-3",
                    "direction": "export",
                    "policies": ["nh"],
                    "neighbors": ["198.18.31.3"],
                }
            ],
            "announcements": [{"prefix": "198.51.100.0/24", "med": 5}],
        }
    ]
}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            {"neighbors": [{"address": "198.18.0.1", "peer_asn": 0}]},
            "routers[0].neighbors[0].peer_asn",
        ),
        (
            {
                "neighbors": [
                    {"address": "198.18.0.1", "peer_asn": 1},
                    {"address": "198.18.0.1", "peer_asn": 2},
                ]
            },
            "routers[0].neighbors[1].address",
        ),
        ({"policies": [{"name": "x", "statements": []}]}, "routers[0].policies[0].statements"),
        ({"colour": "red"}, "routers[0].colour"),
        (
            {"neighbors": [{"router": "GoBGP-1", "address": "198.18.0.1", "peer_asn": 1}]},
            "routers[0].neighbors[0].router",
        ),
    ],
)
def test_parse_errors_name_the_object(change: dict[str, Any], where: str) -> None:
    document = {"routers": [{**FLEET["routers"][0], **change}]}
    with pytest.raises(InvalidInput) as error:
        parse_fleet(document)
    assert error.value.field == where


def test_plan_apply_export_noop(client: TestClient) -> None:
    plan = client.post("/v1/fleet/plan", json={"fleet": FLEET}).json()
    assert {c["action"] for c in plan["changes"]} == {"create"} and len(plan["changes"]) == 7
    assert client.get("/v1/routers").json()["total"] == 0  # the dry run changed nothing
    applied = client.post("/v1/fleet/apply", json={"fleet": FLEET}).json()
    assert applied["applied"] is True
    exported = client.get("/v1/fleet/export").json()
    assert "password" not in str(exported)
    again = client.post("/v1/fleet/plan", json={"fleet": exported, "prune": True}).json()
    assert again["changes"] == [], again
    # the file itself: the same but for its password, never compared, always written
    again = client.post("/v1/fleet/plan", json={"fleet": FLEET, "prune": True}).json()
    assert [(c["key"], list(c["fields"])) for c in again["changes"]] == [
        ("198.18.31.3", ["password"])
    ], again
    neighbor = client.get("/v1/neighbors", params={"address": "198.18.31.3"}).json()["items"][0]
    assert neighbor["password_set"] is True  # export -> apply kept the password


def test_failed_check_rolls_everything_back(client: TestClient) -> None:
    bad = {
        "routers": [
            {
                **FLEET["routers"][0],
                "attachments": [
                    {
                        "name": "x",
                        "direction": "export",
                        "policies": ["nh"],
                        "neighbors": ["198.18.9.9"],
                    }
                ],
            }
        ]
    }
    answer = client.post("/v1/fleet/apply", json={"fleet": bad})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "routers[0].attachments[0].neighbors[0]"
    assert client.get("/v1/routers").json()["total"] == 0
    assert client.get("/v1/policies").json()["total"] == 0


def test_prune_and_session_effects(client: TestClient) -> None:
    client.post("/v1/fleet/apply", json={"fleet": FLEET})
    changed = {
        "routers": [
            {
                **FLEET["routers"][0],
                "neighbors": [{"address": "198.18.11.11", "peer_asn": 65009}],
                "attachments": [],
                "announcements": [],
            }
        ]
    }
    plan = client.post("/v1/fleet/plan", json={"fleet": changed, "prune": True}).json()
    actions = {(c["action"], c["kind"], c["key"]) for c in plan["changes"]}
    assert ("update", "neighbor", "198.18.11.11") in actions
    assert ("delete", "neighbor", "198.18.31.3") in actions
    assert ("delete", "attachment", "to-3") in actions
    assert any("resets (peer_asn)" in e for e in plan["effects"])
    applied = client.post("/v1/fleet/apply", json={"fleet": changed, "prune": True})
    assert applied.status_code == 200, applied.text
    wait_for(
        lambda: client.get("/v1/policy-attachments").json()["total"] == 0,
        what="pruned attachment gone once the reconciler applied it",
    )
    wait_for(lambda: client.get("/v1/neighbors").json()["total"] == 1, what="pruned neighbor")


def test_policy_resources_and_fleet_changes_are_events(client: TestClient) -> None:
    client.post("/v1/fleet/apply", json={"fleet": FLEET})
    events = client.get("/v1/events", params={"kind": "resource.created", "limit": 100}).json()
    kinds = {e["resource_type"] for e in events["items"]}
    assert {
        "router",
        "neighbor",
        "defined_set",
        "policy",
        "policy_attachment",
        "announcement",
    } <= kinds
    assert "pw" not in str(events)
    dry = {"routers": [{**FLEET["routers"][0], "description": "changed"}]}
    before = client.get("/v1/events", params={"limit": 1000}).json()["items"]
    client.post("/v1/fleet/plan", json={"fleet": dry})
    after = client.get("/v1/events", params={"limit": 1000}).json()["items"]
    assert [e for e in after if e["kind"].startswith("resource.")] == [
        e for e in before if e["kind"].startswith("resource.")
    ]  # a dry run emits nothing
