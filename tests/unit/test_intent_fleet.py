"""The fleet file's ``sites`` section (uplinks and intents nested) through the API:
plan, apply in one transaction with the routers it needs, export -> apply no-op,
errors located in the file, --prune within the named sites, generated objects never
exported nor pruned as routers' own."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from tests.support.demo_site import FAR, ROUTERS

FLEET: dict[str, Any] = {
    "routers": [
        {
            "name": name,
            "router_id": router_id,
            "asn": 65001,
            "api_address": f"unix:///run/sdwan/{name}.sock",
            "neighbors": [{"address": a, "peer_asn": asn} for a, asn in neighbors],
        }
        for name, router_id, neighbors in ROUTERS
    ],
    "sites": [
        {
            "name": "hq",
            "routers": ["GoBGP-1", "GoBGP-2", "GoBGP-3"],
            "prefixes": ["198.51.100.0/24"],
            "uplinks": [
                {
                    "name": "vyos1",
                    "router": "GoBGP-1",
                    "neighbor": "198.18.11.11",
                    "transport": "mpls",
                },
                {"name": "vyos2", "router": "GoBGP-2", "neighbor": "198.18.22.22"},
            ],
            "intents": [
                {
                    "name": "far",
                    "destination": {"prefixes": [FAR]},
                    "prefer": ["vyos1", "vyos2"],
                    "return_path": {"method": "prepend"},
                }
            ],
        }
    ],
}


def apply(client: TestClient, document: dict[str, Any], **kw: Any) -> dict[str, Any]:
    path = "/v1/fleet/plan" if kw.pop("dry_run", False) else "/v1/fleet/apply"
    answer = client.post(path, json={"fleet": document, **kw})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_sites_apply_export_round_trip(client: TestClient) -> None:
    plan = apply(client, FLEET, dry_run=True)
    kinds = [
        (c["action"], c["kind"], c["key"])
        for c in plan["changes"]
        if c["kind"] in ("site", "uplink", "intent")
    ]
    assert kinds == [
        ("create", "site", "hq"),
        ("create", "uplink", "vyos1"),
        ("create", "uplink", "vyos2"),
        ("create", "intent", "far"),
    ]
    assert plan["predictions"] and plan["predictions"][0]["intent"] == "far"
    assert client.get("/v1/sites").json()["total"] == 0  # a plan changes nothing
    result = apply(client, FLEET)
    assert result["applied"]
    intent = client.get("/v1/intents").json()["items"][0]
    assert intent["tiers"] == [["vyos1"], ["vyos2"]]
    exported = client.get("/v1/fleet/export").json()
    site = exported["sites"][0]
    assert site["routers"] == [{"router": r} for r in ("GoBGP-1", "GoBGP-2", "GoBGP-3")]
    assert site["intents"][0]["prefer"] == [["vyos1"], ["vyos2"]]
    for router in exported["routers"]:  # generated objects belong to the site section
        assert "policies" not in router and "attachments" not in router
    again = apply(client, exported, dry_run=True, prune=True)
    assert again["changes"] == []


def test_errors_name_the_object_in_the_file(client: TestClient) -> None:
    broken = copy.deepcopy(FLEET)
    broken["sites"][0]["intents"][0]["prefer"] = ["vyos1", "nope"]
    answer = client.post("/v1/fleet/apply", json={"fleet": broken})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "sites[0].intents[0].prefer[1][0]"
    assert client.get("/v1/routers").json()["total"] == 0  # all or nothing
    bad = copy.deepcopy(FLEET)
    bad["sites"][0]["uplinks"][1]["cost"] = -1
    answer = client.post("/v1/fleet/plan", json={"fleet": bad})
    assert answer.json()["error"]["field"] == "sites[0].uplinks[1].cost"


def test_prune_deletes_within_the_named_sites_only(client: TestClient) -> None:
    apply(client, FLEET)
    smaller = copy.deepcopy(FLEET)
    smaller["sites"][0]["intents"] = []
    plan = apply(client, smaller, dry_run=True, prune=True)
    deletes = [(c["kind"], c["key"]) for c in plan["changes"] if c["action"] == "delete"]
    assert deletes == [("intent", "far")]
    apply(client, smaller, prune=True)
    assert client.get("/v1/intents").json()["total"] == 0
    assert client.get("/v1/uplinks").json()["total"] == 2
