"""The revision log (issue 24, item 1): every committed change to the desired state is
one numbered revision with author, time, message, source and each object's diff; a
change that fails or is only planned leaves none; secrets never come out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sdwan.runtime import Runtime
from sdwan.store.tables import neighbors
from tests.support.demo_site import INTENT, site_with_uplinks
from tests.support.identity import add_user, bearer, login
from tests.support.revisions import (
    OWNED,
    PASSWORD,
    latest,
    neighbor_id,
    one_change,
    owned_id,
    revision,
    router,
)


def test_each_write_of_a_router_and_its_neighbor_is_one_revision(client: TestClient) -> None:
    assert latest(client) == 0
    body = {"name": "r1", "router_id": "192.0.2.1", "asn": 65001, "api_address": "unix:///x.s"}
    made = client.post("/v1/routers", json=body).json()
    created = one_change(client, 1)
    assert created["kind"] == "router" and created["action"] == "create"
    assert created["id"] == made["id"] and created["router"] == made["id"]
    assert created["name"] == "r1" and created["project"] == "default"
    assert created["before"] is None and created["fields"]["asn"] == [None, 65001]

    neighbor = {"router": "r1", "address": "198.18.0.2", "peer_asn": 65002, "password": PASSWORD}
    client.post("/v1/neighbors", json=neighbor)
    ident = neighbor_id(client, "r1")
    client.patch(f"/v1/neighbors/{ident}", json={"hold_time": 30, "keepalive_interval": 10})
    client.patch(f"/v1/neighbors/{ident}", json={"password": "another-secret"})
    client.patch(f"/v1/neighbors/{ident}", json={"password": None})
    client.patch("/v1/routers/r1", json={"asn": 65009})
    client.delete(f"/v1/neighbors/{ident}")
    assert latest(client) == 7
    changes = [one_change(client, n) for n in range(2, 8)]
    assert [(c["kind"], c["action"], c["name"]) for c in changes] == [
        ("neighbor", "create", "r1/198.18.0.2"),
        ("neighbor", "update", "r1/198.18.0.2"),
        ("neighbor", "update", "r1/198.18.0.2"),
        ("neighbor", "update", "r1/198.18.0.2"),
        ("router", "update", "r1"),
        ("neighbor", "delete", "r1/198.18.0.2"),
    ]
    assert changes[0]["fields"]["password"] == [None, "set"]
    assert changes[1]["fields"] == {"hold_time": [90, 30], "keepalive_interval": [30, 10]}
    assert changes[2]["fields"] == {"password": ["set", "changed"]}
    assert changes[3]["fields"] == {"password": ["set", None]}
    assert changes[4]["fields"] == {"asn": [65001, 65009]}
    assert changes[5]["after"] is None and changes[5]["before"]["hold_time"] == 30


@pytest.mark.parametrize("path", list(OWNED))
def test_each_write_of_a_policy_object_is_one_revision(client: TestClient, path: str) -> None:
    router(client)
    kind = {
        "/v1/defined-sets": "defined_set",
        "/v1/policies": "policy",
        "/v1/policy-attachments": "policy_attachment",
        "/v1/announcements": "announcement",
    }[path]
    ident = owned_id(client, path, "r1")
    made = latest(client)
    assert client.patch(f"{path}/{ident}", json={"description": "changed"}).status_code == 200
    deletable = path in ("/v1/policy-attachments", "/v1/announcements")  # named by none
    if deletable:
        assert client.delete(f"{path}/{ident}").status_code == 202
    updated = one_change(client, made + 1)
    assert (updated["kind"], updated["action"], updated["id"]) == (kind, "update", ident)
    assert updated["fields"] == {"description": ["", "changed"]}
    if deletable:
        deleted = one_change(client, made + 2)
        assert (deleted["kind"], deleted["action"]) == (kind, "delete")
        assert deleted["before"]["description"] == "changed" and deleted["after"] is None


def test_a_router_deletion_records_what_it_takes_along(client: TestClient) -> None:
    router_id = router(client)
    assert client.delete("/v1/routers/r1", params={"cascade": "true"}).status_code == 202
    changes = revision(client, latest(client))["changes"]
    assert {c["kind"] for c in changes} == {
        "router",
        "neighbor",
        "defined_set",
        "policy",
        "policy_attachment",
        "announcement",
    }
    assert all(c["action"] == "delete" and c["router"] == router_id for c in changes)


def test_site_uplink_and_intent_changes_are_revisions(client: TestClient) -> None:
    site_with_uplinks(client)
    before = latest(client)
    made = client.post("/v1/intents", json=INTENT)
    assert made.status_code == 201, made.text
    change = one_change(client, before + 1)  # its generated policy rows are not changes
    assert (change["kind"], change["name"], change["action"]) == ("intent", "hq/far", "create")
    site = client.get("/v1/sites/hq").json()
    assert change["site"] == site["id"] and change["router"] is None

    routers = [{"router": "GoBGP-1"}, {"router": "GoBGP-2"}]
    assert client.patch("/v1/sites/hq", json={"routers": routers}).status_code == 200
    members = one_change(client, before + 2)["fields"]["routers"]
    assert [len(members[0]), len(members[1])] == [3, 2]
    uplink = client.get("/v1/uplinks", params={"site": "hq", "name": "vyos1"}).json()["items"][0]
    assert client.patch(f"/v1/uplinks/{uplink['id']}", json={"cost": 15}).status_code == 200
    assert one_change(client, before + 3)["fields"] == {"cost": [10, 15]}

    assert client.delete(f"/v1/intents/{made.json()['id']}").status_code == 200
    assert client.delete("/v1/sites/hq").status_code == 200  # its uplinks go with it
    gone = revision(client, before + 5)["changes"]
    assert sorted((c["kind"], c["name"]) for c in gone) == [
        ("site", "hq"),
        ("uplink", "hq/vyos1"),
        ("uplink", "hq/vyos2"),
    ]


def test_a_fleet_apply_is_one_revision_and_a_plan_none(client: TestClient) -> None:
    fleet = {
        "routers": [
            {
                "name": name,
                "router_id": f"192.0.2.{i}",
                "asn": 65001,
                "api_address": f"unix:///run/{name}.sock",
                "neighbors": [{"address": "198.18.0.2", "peer_asn": 65002}],
            }
            for i, name in enumerate(("a", "b", "c"), start=1)
        ]
    }
    planned = client.post("/v1/fleet/plan", json={"fleet": fleet}).json()
    assert planned["revision"] is None and latest(client) == 0
    applied = client.post(
        "/v1/fleet/apply", json={"fleet": fleet}, headers={"X-Sdwan-Message": "3"}
    )
    assert applied.json()["revision"] == 1 == latest(client)
    found = revision(client, 1)
    assert found["source"] == "fleet" and found["message"] == "3"
    assert found["change_count"] == 6 and len(found["changes"]) == 6
    again = client.post("/v1/fleet/apply", json={"fleet": fleet}).json()
    assert again["revision"] is None and latest(client) == 1  # nothing changed: none


def test_a_failed_dry_or_empty_change_leaves_no_revision(client: TestClient) -> None:
    router(client)
    made = latest(client)
    body = {"name": "r1", "router_id": "192.0.2.9", "asn": 1, "api_address": "unix:///y.s"}
    assert client.post("/v1/routers", json=body).status_code == 409
    dry = client.patch("/v1/routers/r1", json={"asn": 65002}, params={"dry_run": "true"})
    assert dry.status_code == 200
    same = client.get("/v1/routers/r1").json()["asn"]  # stored as it is: nothing changed
    assert client.patch("/v1/routers/r1", json={"asn": same}).status_code == 200
    broken = {
        "routers": [
            {"name": "r2", "router_id": "192.0.2.2", "asn": 1, "api_address": "unix:///z.s"},
            {
                "name": "r1",
                "router_id": "192.0.2.1",
                "asn": 65001,
                "api_address": "unix:///run/sdwan/r1.sock",
                "policies": [{"name": "p", "statements": [{"conditions": {"prefix_set": "x"}}]}],
            },
        ]
    }
    assert client.post("/v1/fleet/apply", json={"fleet": broken}).status_code == 422
    assert client.get("/v1/routers/r2").status_code == 404
    assert latest(client) == made


def test_secrets_never_come_out(client: TestClient, runtime: Runtime) -> None:
    router(client)
    ident = neighbor_id(client, "r1")
    client.patch(f"/v1/neighbors/{ident}", json={"password": "second-secret"})
    with runtime.engine.connect() as conn:
        sealed = conn.execute(select(neighbors.c.password_sealed)).scalar_one()
    assert sealed
    text = json.dumps(client.get("/v1/revisions", params={"limit": 1000}).json())
    for number in range(1, latest(client) + 1):
        text += json.dumps(revision(client, number))
    for secret in (PASSWORD, "second-secret", sealed.decode()):
        assert secret not in text
    assert '"password": "set"' in text


def test_message_author_source_and_filters(client: TestClient) -> None:
    router(client, "r1")
    router(client, "r2")
    r1 = client.get("/v1/routers/r1").json()["id"]
    headers = {"X-Sdwan-Message": "raise%20MED%20%E2%86%92%206"}  # percent-encoded UTF-8
    ident = owned_id(client, "/v1/announcements", "r1")
    client.patch(f"/v1/announcements/{ident}", json={"med": 6}, headers=headers)
    client.patch("/v1/routers/r2", json={"asn": 65002}, params={"message": "r2 moves"})
    newest = client.get("/v1/revisions", params={"limit": 2}).json()
    assert [r["message"] for r in newest["items"]] == ["r2 moves", "raise MED → 6"]
    assert all(r["author"] == "bootstrap-admin" and r["source"] == "api" for r in newest["items"])
    assert newest["total"] == latest(client) == 14

    bad = client.patch("/v1/routers/r2", json={"asn": 65003}, params={"message": "a\x07b"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "message"
    assert latest(client) == 14

    of_r1 = client.get("/v1/revisions", params={"router": "r1"}).json()
    assert of_r1["total"] == 7 and of_r1["items"][0]["message"] == "raise MED → 6"
    forced = client.delete("/v1/routers/r1", params={"cascade": "true", "force": "true"})
    assert forced.json()["deleted"] is True, forced.text
    by_old_name = client.get("/v1/revisions", params={"router": "r1"}).json()
    assert by_old_name["total"] == 8  # a router deleted since, named as it was
    assert client.get("/v1/revisions", params={"router": r1}).json()["total"] == 8
    assert client.get("/v1/revisions", params={"router": "nope"}).status_code == 422
    assert client.get("/v1/revisions", params={"source": "fleet"}).json()["total"] == 0
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert client.get("/v1/revisions", params={"since": soon}).json()["total"] == 0
    assert client.get("/v1/revisions", params={"author": "bootstrap-admin"}).json()["total"] == 15


def test_readers_see_their_projects_changes_only(client: TestClient) -> None:
    add_user(client, "blue-reader", "blue", "reader")
    client.post("/v1/projects", json={"name": "red"})
    router(client, "blue-r", project="blue")
    router(client, "red-r", project="red")
    both = {
        "routers": [
            {"name": n, "router_id": "192.0.2.77", "asn": 65077, "api_address": f"unix:///{n}"}
            for n in ("blue-r", "red-r")
        ]
    }
    client.post("/v1/fleet/apply", json={"fleet": both})  # an admin's change in two projects
    blue = bearer(login(client, "blue-reader"))
    page = client.get("/v1/revisions", params={"limit": 1000}, headers=blue).json()
    assert page["total"] == 7 and page["latest"] == 13
    assert page["items"][0]["change_count"] == 1  # of the two routers it changed
    shared = client.get("/v1/revisions/13", headers=blue).json()
    assert [c["name"] for c in shared["changes"]] == ["blue-r"]
    assert client.get("/v1/revisions/12", headers=blue).status_code == 404  # red's
    assert client.get("/v1/revisions", params={"project": "red"}, headers=blue).json()["total"] == 0
    assert client.get("/v1/revisions", params={"router": "red-r"}, headers=blue).status_code == 422
    assert client.get("/v1/revisions", params={"project": "red"}).json()["total"] == 7
