"""The fleet file's ``sla_classes`` section, intents' ``sla_class``, uplinks' ``probe``
and site routers' ``probe_agent``: plan, apply (classes before the intents naming
them), export -> apply no-op, errors located in the file, --prune within the projects
the section covers."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from tests.support.identity import add_user, bearer, login
from tests.unit.test_intent_fleet import FLEET, apply

AGENT = "unix:///run/sdwan/GoBGP-1.sock.probe"


def _fleet() -> dict[str, Any]:
    document = copy.deepcopy(FLEET)
    document["sla_classes"] = [
        {"name": "gold", "loss_pct": 1, "latency_ms": 50, "jitter_ms": 10, "hold_down_s": 60},
        {"name": "bronze", "latency_ms": 300},
    ]
    site = document["sites"][0]
    site["routers"] = [{"router": "GoBGP-1", "probe_agent": AGENT}, "GoBGP-2", "GoBGP-3"]
    site["uplinks"][0]["probe"] = {"method": "icmp", "target": "192.0.2.7", "rate": 20}
    site["intents"][0]["sla_class"] = "gold"
    return document


def _changes(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(c["action"], c["kind"], c["router"], c["key"]) for c in result["changes"]]


def test_classes_apply_before_their_intents_and_export_round_trips(client: TestClient) -> None:
    document = _fleet()
    plan = apply(client, document, dry_run=True)
    assert _changes(plan)[:2] == [
        ("create", "sla class", "default", "gold"),
        ("create", "sla class", "default", "bronze"),
    ]
    assert client.get("/v1/sla-classes").json()["total"] == 0  # a plan changes nothing
    assert apply(client, document)["applied"]
    intent = client.get("/v1/intents").json()["items"][0]
    assert intent["sla_class"] == "gold"
    gold = client.get("/v1/sla-classes/gold").json()
    assert (gold["loss_pct"], gold["hold_down_s"], gold["used_by"]) == (1.0, 60.0, ["hq/far"])
    uplink = client.get("/v1/uplinks", params={"name": "vyos1"}).json()["items"][0]
    assert uplink["probe"] == {"method": "icmp", "target": "192.0.2.7", "port": 862, "rate": 20.0}
    routers = client.get("/v1/sites/hq").json()["routers"]
    assert [r["probe_agent"] for r in routers] == [AGENT, None, None]

    exported = client.get("/v1/fleet/export").json()
    assert exported["sla_classes"] == [
        {"name": "bronze", "latency_ms": 300.0},
        {
            "name": "gold",
            "loss_pct": 1.0,
            "latency_ms": 50.0,
            "jitter_ms": 10.0,
            "hold_down_s": 60.0,
        },
    ]
    site = exported["sites"][0]
    assert site["routers"][0] == {"router": "GoBGP-1", "probe_agent": AGENT}
    uplinks = {u["name"]: u for u in site["uplinks"]}
    assert uplinks["vyos1"]["probe"] == {"method": "icmp", "target": "192.0.2.7", "rate": 20.0}
    assert "probe" not in uplinks["vyos2"]  # the default is left out
    assert site["intents"][0]["sla_class"] == "gold"
    assert apply(client, exported, dry_run=True)["changes"] == []
    only = client.get("/v1/fleet/export", params={"router": "GoBGP-1"}).json()
    assert [c["name"] for c in only["sla_classes"]] == ["gold"]  # those its intents name


def test_changes_and_prune_follow_the_file(client: TestClient) -> None:
    document = _fleet()
    apply(client, document)
    document["sla_classes"] = [{"name": "gold", "loss_pct": 2, "latency_ms": 50}]
    document["sites"][0]["uplinks"][0].pop("probe")
    document["sites"][0]["intents"][0].pop("sla_class")
    plan = apply(client, document, dry_run=True, prune=True)
    changed = {(c["kind"], c["key"]): c for c in plan["changes"]}
    assert changed[("sla class", "gold")]["fields"] == {
        "loss_pct": [1.0, 2.0],
        "jitter_ms": [10.0, None],
        "hold_down_s": [60.0, 30.0],
    }
    assert changed[("sla class", "bronze")]["action"] == "delete"
    assert changed[("intent", "far")]["fields"] == {"sla_class": ["gold", None]}
    assert changed[("uplink", "vyos1")]["fields"]["probe"][1] == {"method": "udp", "port": 862}
    apply(client, document, prune=True)  # the intent lets go of gold before classes go
    assert [c["name"] for c in client.get("/v1/sla-classes").json()["items"]] == ["gold"]
    gold = client.get("/v1/sla-classes/gold").json()
    assert (gold["loss_pct"], gold["jitter_ms"], gold["used_by"]) == (2.0, None, [])
    assert client.get("/v1/intents").json()["items"][0]["sla_class"] is None
    # a file without the section leaves classes alone, even with --prune
    without = {k: v for k, v in document.items() if k != "sla_classes"}
    assert apply(client, without, prune=True)["changes"] == []
    assert client.get("/v1/sla-classes").json()["total"] == 1


def test_errors_name_the_entry(client: TestClient) -> None:
    for change, field in (
        ({"loss_pct": 200}, "sla_classes[1].loss_pct"),
        ({"loss_pct": None, "latency_ms": None}, "sla_classes[1]"),
        ({"speed": 1}, "sla_classes[1].speed"),
        ({"project": "nope"}, "sla_classes[1].project"),
    ):
        document = _fleet()
        document["sla_classes"][1] = {**document["sla_classes"][1], **change}
        answer = client.post("/v1/fleet/apply", json={"fleet": document})
        assert answer.status_code == 422, (change, answer.text)
        assert answer.json()["error"]["field"] == field, (change, answer.text)
    twice = _fleet()
    twice["sla_classes"].append({"name": "gold", "loss_pct": 5})
    answer = client.post("/v1/fleet/apply", json={"fleet": twice})
    assert answer.json()["error"]["field"] == "sla_classes[2].name"
    unknown = _fleet()
    unknown["sites"][0]["intents"][0]["sla_class"] = "platinum"
    answer = client.post("/v1/fleet/apply", json={"fleet": unknown})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "sites[0].intents[0].sla_class"
    bad_probe = _fleet()
    bad_probe["sites"][0]["uplinks"][0]["probe"] = {"method": "tcp"}
    answer = client.post("/v1/fleet/apply", json={"fleet": bad_probe})
    assert answer.json()["error"]["field"] == "sites[0].uplinks[0].probe.method"
    assert client.get("/v1/sla-classes").json()["total"] == 0  # all or nothing
    assert client.get("/v1/sites").json()["total"] == 0


def test_a_members_classes_are_in_its_project(client: TestClient) -> None:
    add_user(client, "blue-member", "blue", "member")
    blue = bearer(login(client, "blue-member"))
    document = {"sla_classes": [{"name": "gold", "loss_pct": 1}]}
    answer = client.post("/v1/fleet/apply", json={"fleet": document}, headers=blue)
    assert answer.status_code == 200, answer.text
    assert client.get("/v1/sla-classes/gold", headers=blue).json()["project_id"] == "blue"
    elsewhere = {"sla_classes": [{"name": "gold", "loss_pct": 1, "project": "default"}]}
    refused = client.post("/v1/fleet/apply", json={"fleet": elsewhere}, headers=blue)
    assert refused.status_code == 403
    # the admin's export names the project of a class outside its own (default)
    exported = client.get("/v1/fleet/export").json()
    assert exported["sla_classes"] == [{"name": "gold", "loss_pct": 1.0, "project": "blue"}]
    assert apply(client, exported, dry_run=True)["changes"] == []
    assert client.get("/v1/fleet/export", headers=blue).json()["sla_classes"] == [
        {"name": "gold", "loss_pct": 1.0}
    ]
