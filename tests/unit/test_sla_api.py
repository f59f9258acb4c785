"""SLA classes through the API: create, list, show, change and delete; bad input named
by field; the intents that name one (by name or id, of their own project only); the
role x project matrix; events and audit entries."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.demo_site import INTENT, site_with_uplinks
from tests.support.identity import add_user, bearer, login

GOLD = {"name": "gold", "loss_pct": 1, "latency_ms": 50, "jitter_ms": 10, "hold_down_s": 30}
SILVER = {"name": "silver", "loss_pct": 2.5}
BRONZE = {"name": "bronze", "latency_ms": 200, "min_interval_s": 60, "description": "best effort"}
Headers = dict[str, str]


def _made(client: TestClient, body: dict[str, Any], headers: Headers | None = None) -> Any:
    answer = client.post("/v1/sla-classes", json=body, headers=headers or {})
    assert answer.status_code == 201, answer.text
    return answer


def test_create_show_list_change_delete(client: TestClient) -> None:
    answer = _made(client, GOLD)
    gold = answer.json()
    assert answer.headers["ETag"] == '"1"'
    assert answer.headers["Location"] == f"/v1/sla-classes/{gold['id']}"
    assert (gold["loss_pct"], gold["latency_ms"], gold["jitter_ms"]) == (1.0, 50.0, 10.0)
    assert (gold["hold_down_s"], gold["min_interval_s"]) == (30.0, 10.0)  # the default
    assert gold["project_id"] == "default" and gold["used_by"] == []
    _made(client, SILVER)
    _made(client, BRONZE)
    assert client.get("/v1/sla-classes/gold").json()["id"] == gold["id"]
    assert client.get(f"/v1/sla-classes/{gold['id']}").headers["ETag"] == '"1"'
    listed = client.get("/v1/sla-classes", params={"limit": 2}).json()
    assert listed["total"] == 3 and [i["name"] for i in listed["items"]] == ["bronze", "gold"]
    for sort, names in (
        ("-loss_pct", ["silver", "gold", "bronze"]),
        ("loss_pct", ["gold", "silver", "bronze"]),
    ):
        by_loss = client.get("/v1/sla-classes", params={"sort": sort}).json()["items"]
        assert [i["name"] for i in by_loss] == names  # unconstrained last, on both stores
    named = client.get("/v1/sla-classes", params={"name": "silver"}).json()
    assert named["total"] == 1 and named["items"][0]["loss_pct"] == 2.5
    bad_sort = client.get("/v1/sla-classes", params={"sort": "version"})
    assert bad_sort.status_code == 422 and bad_sort.json()["error"]["field"] == "sort"

    url = f"/v1/sla-classes/{gold['id']}"
    changed = client.patch(
        url, json={"loss_pct": 2, "jitter_ms": None}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    assert (changed.json()["loss_pct"], changed.json()["jitter_ms"]) == (2.0, None)
    stale = client.patch(url, json={"description": "lost"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"
    same = client.patch(url, json={"loss_pct": 2.0})
    assert same.status_code == 200 and same.headers["ETag"] == '"2"'  # nothing changed
    assert client.delete(url, headers={"If-Match": '"1"'}).status_code == 412
    gone = client.delete(url, headers={"If-Match": '"2"'})
    assert gone.status_code == 200 and gone.json()["name"] == "gold"
    for method in ("GET", "PATCH", "DELETE"):
        missing = client.request(method, url, json={} if method == "PATCH" else None)
        assert missing.status_code == 404 and "SLA class" in missing.json()["error"]["message"]
    assert client.post("/v1/sla-classes", json=SILVER).status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"loss_pct": 101}, "loss_pct"),
        ({"loss_pct": -1}, "loss_pct"),
        ({"loss_pct": "1"}, "loss_pct"),
        ({"latency_ms": 0}, "latency_ms"),
        ({"jitter_ms": 60001}, "jitter_ms"),
        ({"hold_down_s": 0.5}, "hold_down_s"),
        ({"min_interval_s": 86401}, "min_interval_s"),
        ({"name": "a.b"}, "name"),
        ({"name": "x" * 25}, "name"),
        ({"project": "nope"}, "project"),
        ({"colour": "gold"}, "colour"),
        ({"loss_pct": None, "latency_ms": None, "jitter_ms": None}, "body"),
    ],
)
def test_bad_classes_are_refused_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    answer = client.post("/v1/sla-classes", json={**GOLD, **change})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert field in {error["field"]} | {d["field"] for d in error["details"]}, error
    assert client.get("/v1/sla-classes").json()["total"] == 0


def test_bad_changes_are_refused_naming_the_field(client: TestClient) -> None:
    url = f"/v1/sla-classes/{_made(client, SILVER).json()['id']}"
    for body, field in (
        ({"loss_pct": None}, "loss_pct"),  # the only limit: a class keeps one
        ({"description": None}, "description"),
        ({"hold_down_s": None}, "hold_down_s"),
        ({"name": "other"}, "name"),  # fixed once created
        ({"latency_ms": -5}, "latency_ms"),
    ):
        answer = client.patch(url, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"] == field, (body, answer.text)
    assert client.get(url).json()["version"] == 1
    lifted = client.patch(url, json={"loss_pct": None, "latency_ms": 80})
    assert lifted.status_code == 200 and lifted.json()["loss_pct"] is None


def test_intents_name_a_class_of_their_project(client: TestClient) -> None:
    site_with_uplinks(client)
    gold = _made(client, GOLD).json()
    made = client.post("/v1/intents", json={**INTENT, "sla_class": "gold"})
    assert made.status_code == 201, made.text
    intent = made.json()
    assert intent["sla_class"] == "gold" and "sla_class_id" not in intent
    assert client.get("/v1/sla-classes/gold").json()["used_by"] == ["hq/far"]
    # by id too; a PATCH clears it or sets another
    other = client.post("/v1/intents", json={**INTENT, "name": "b", "sla_class": gold["id"]})
    assert other.status_code == 201 and other.json()["sla_class"] == "gold"
    in_use = client.delete("/v1/sla-classes/gold")
    assert in_use.status_code == 409
    assert "hq/b, hq/far" in in_use.json()["error"]["message"]
    url = f"/v1/intents/{intent['id']}"
    cleared = client.patch(url, json={"sla_class": None})
    assert cleared.status_code == 200 and cleared.json()["sla_class"] is None
    assert cleared.json()["version"] == 2
    _made(client, SILVER)
    moved = client.patch(url, json={"sla_class": "silver"})
    assert moved.status_code == 200 and moved.json()["sla_class"] == "silver"
    kept = client.patch(url, json={"description": "x"})
    assert kept.json()["sla_class"] == "silver"  # a PATCH without it keeps it
    unknown = client.patch(url, json={"sla_class": "platinum"})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "sla_class"
    assert "no SLA class 'platinum' in project default" in unknown.json()["error"]["message"]
    assert (
        client.post("/v1/intents", json={**INTENT, "name": "c", "sla_class": ""}).json()["error"][
            "field"
        ]
        == "sla_class"
    )
    # a class of another project, even for an admin who sees both
    client.post("/v1/projects", json={"name": "red"})
    red = _made(client, {**SILVER, "name": "red-only", "project": "red"}).json()
    for ref in ("red-only", red["id"]):
        foreign = client.patch(url, json={"sla_class": ref})
        assert foreign.status_code == 422 and foreign.json()["error"]["field"] == "sla_class"
        assert "is in project red" in foreign.json()["error"]["message"]
    # the plan takes the same body
    plan = client.post("/v1/intents/plan", json={**INTENT, "name": "d", "sla_class": "red-only"})
    assert plan.status_code == 422 and plan.json()["error"]["field"] == "sla_class"
    plan = client.post("/v1/intents/plan", json={**INTENT, "name": "d", "sla_class": "gold"})
    assert plan.status_code == 200, plan.text
    assert plan.json()["action"] == "create"
    assert client.get("/v1/intents", params={"name": "d"}).json()["total"] == 0


def test_classes_are_project_scoped(client: TestClient) -> None:
    add_user(client, "blue-member", "blue", "member")
    add_user(client, "blue-reader", "blue", "reader")
    add_user(client, "red-member", "red", "member")
    blue, reader, red = (
        bearer(login(client, name)) for name in ("blue-member", "blue-reader", "red-member")
    )
    made = _made(client, GOLD, blue).json()
    assert made["project_id"] == "blue"
    url = f"/v1/sla-classes/{made['id']}"
    assert client.post("/v1/sla-classes", json=SILVER, headers=reader).status_code == 403
    elsewhere = client.post("/v1/sla-classes", json={**SILVER, "project": "red"}, headers=blue)
    assert elsewhere.status_code == 403
    for who in (blue, reader):
        assert client.get("/v1/sla-classes/gold", headers=who).status_code == 200
        assert client.get("/v1/sla-classes", headers=who).json()["total"] == 1
    # red: blue's class is as unknown as one that does not exist
    for key in ("gold", made["id"]):
        hidden = client.get(f"/v1/sla-classes/{key}", headers=red)
        missing = client.get("/v1/sla-classes/nope", headers=red)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["error"]["message"] == missing.json()["error"]["message"].replace(
            "nope", key
        )
    assert client.get("/v1/sla-classes", headers=red).json()["total"] == 0
    for method in ("PATCH", "DELETE"):
        body = {"loss_pct": 3} if method == "PATCH" else None
        assert client.request(method, url, json=body, headers=reader).status_code == 403
        assert client.request(method, url, json=body, headers=red).status_code == 404
    # red has a gold of its own; the admin sees both and names them by id
    _made(client, GOLD, red)
    assert client.get("/v1/sla-classes", headers=red).json()["total"] == 1
    assert client.get("/v1/sla-classes").json()["total"] == 2
    only_red = client.get("/v1/sla-classes", params={"project": "red"}).json()
    assert [i["project_id"] for i in only_red["items"]] == ["red"]
    assert (
        client.get("/v1/sla-classes", params={"project": "red"}, headers=blue).json()["total"] == 0
    )
    ambiguous = client.get("/v1/sla-classes/gold")
    assert ambiguous.status_code == 422 and "by its id" in ambiguous.json()["error"]["message"]
    assert client.get(url).json()["project_id"] == "blue"
    assert client.patch(url, json={"loss_pct": 3}, headers=blue).status_code == 200
    assert client.delete(url, headers=blue).status_code == 200
    assert client.get(url, headers={"Authorization": ""}).status_code == 401


def test_writes_are_events_and_audit_entries(client: TestClient) -> None:
    gold = _made(client, GOLD).json()
    client.patch(f"/v1/sla-classes/{gold['id']}", json={"loss_pct": 5})
    client.delete(f"/v1/sla-classes/{gold['id']}")
    events = [
        e for e in client.get("/v1/events").json()["items"] if e["resource_type"] == "sla_class"
    ]
    assert [e["message"] for e in events] == [
        "SLA class gold created",
        "SLA class gold updated: loss_pct",
        "SLA class gold deleted",
    ]
    audit = client.get("/v1/audit", params={"resource_id": gold["id"]}).json()["items"]
    assert [a["action"] for a in audit] == ["delete", "update", "create"]  # newest first
    assert audit[1]["before"]["loss_pct"] == 1.0 and audit[1]["after"]["loss_pct"] == 5.0
    assert audit[0]["after"] is None and audit[0]["resource_name"] == "gold"
