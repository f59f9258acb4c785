"""The generic CRUD suite's resources under a role x project matrix: a member and a
reader of project blue, a member of project red, and the admin. Cross-project access
is 404 (no existence leak), writes by readers 403, missing credentials 401."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.api import ROUTER
from tests.support.identity import add_user, bearer, login
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

Headers = dict[str, str]


@pytest.fixture
def callers(client: TestClient) -> dict[str, Headers]:
    add_user(client, "blue-member", "blue", "member")
    add_user(client, "blue-reader", "blue", "reader")
    add_user(client, "red-member", "red", "member")
    return {
        name: bearer(login(client, name)) for name in ("blue-member", "blue-reader", "red-member")
    }


def _in_blue(path: str, body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "project": "blue"} if path == "/v1/routers" else body


@pytest.mark.parametrize(
    "res",
    [ROUTERS, NEIGHBORS, DEFINED_SETS, POLICIES, ATTACHMENTS, ANNOUNCEMENTS],
    ids=["routers", "neighbors", "defined-sets", "policies", "attachments", "announcements"],
)
def test_role_project_matrix(
    client: TestClient, callers: dict[str, Headers], res: Resource
) -> None:
    blue, reader, red = callers["blue-member"], callers["blue-reader"], callers["red-member"]
    for path, body in res.setup:
        assert client.post(path, json=_in_blue(path, body)).status_code == 201
    first = client.post(res.path, json=_in_blue(res.path, res.valid[0]))
    assert first.status_code == 201, first.text
    url = f"{res.path}/{first.json()[res.key_field]}"
    listing = {"router": "GoBGP-1"} if res is not ROUTERS else {}

    # create: member in its project, reader refused, red cannot reach blue's router
    second = _in_blue(res.path, res.valid[1])
    if res is ROUTERS:
        second = {k: v for k, v in second.items() if k != "project"}
    assert client.post(res.path, json=second, headers=reader).status_code == 403
    if res is not ROUTERS:  # blue's router is to red what a router that does not exist is
        foreign = client.post(res.path, json=second, headers=red)
        unknown = client.post(res.path, json={**second, "router": "GoBGP-9"}, headers=red)
        assert foreign.status_code == unknown.status_code == 422
        assert foreign.json()["error"]["field"] == "router"
        assert foreign.json()["error"]["message"] == unknown.json()["error"]["message"].replace(
            "GoBGP-9", "GoBGP-1"
        )
    made = client.post(res.path, json=second, headers=blue)
    assert made.status_code == 201, made.text
    if res is ROUTERS:
        assert made.json()["project_id"] == "blue"
        elsewhere = client.post(res.path, json={**res.valid[2], "project": "red"}, headers=blue)
        assert elsewhere.status_code == 403

    # read: blue sees both, red sees nothing and gets 404 for blue's objects
    for who in (blue, reader):
        assert client.get(url, headers=who).status_code == 200
        assert client.get(res.path, params=listing, headers=who).json()["total"] == 2
    assert client.get(url, headers=red).status_code == 404
    red_list = client.get(res.path, params=listing, headers=red)
    if res is ROUTERS:
        assert red_list.status_code == 200 and red_list.json()["total"] == 0
    else:  # the same answer as filtering by a router that does not exist
        unknown = client.get(res.path, params={"router": "GoBGP-9"}, headers=red)
        assert red_list.status_code == unknown.status_code == 422
        assert red_list.json()["error"]["message"] == unknown.json()["error"]["message"].replace(
            "GoBGP-9", "GoBGP-1"
        )
    assert client.get(res.path, params=listing).json()["total"] == 2  # admin

    # update and delete: reader 403, red 404 (the same as for a missing object), member ok
    for method in ("PATCH", "DELETE"):
        change = res.update if method == "PATCH" else None
        assert client.request(method, url, json=change, headers=reader).status_code == 403
        assert client.request(method, url, json=change, headers=red).status_code == 404
        missing = client.request(method, f"{res.path}/nope", json=change, headers=red)
        assert missing.status_code == 404
        assert missing.json()["error"]["message"].replace("nope", "X") == client.request(
            method, url, json=change, headers=red
        ).json()["error"]["message"].replace(url.rsplit("/", 1)[1], "X")
    assert client.patch(url, json=res.update, headers=blue).status_code == 200
    assert client.delete(url, headers=blue).status_code in (200, 202)

    # no credentials at all
    assert client.get(url, headers={"Authorization": ""}).status_code == 401


def test_admin_may_create_in_any_existing_project(client: TestClient) -> None:
    client.post("/v1/projects", json={"name": "red"})
    made = client.post("/v1/routers", json={**ROUTER, "project": "red"})
    assert made.status_code == 201 and made.json()["project_id"] == "red"
    nowhere = client.post("/v1/routers", json={**ROUTERS.valid[1], "project": "nope"})
    assert nowhere.status_code == 422 and nowhere.json()["error"]["field"] == "project"
    assert client.post("/v1/routers", json=ROUTERS.valid[2]).json()["project_id"] == "default"


def test_events_rib_metrics_are_project_scoped(
    client: TestClient, callers: dict[str, Headers]
) -> None:
    blue, red = callers["blue-member"], callers["red-member"]
    assert client.post("/v1/routers", json=ROUTER, headers=blue).status_code == 201
    neighbor = {"router": "GoBGP-1", "address": "198.18.11.11", "peer_asn": 65000}
    made = client.post("/v1/neighbors", json=neighbor, headers=blue)
    assert made.status_code == 201

    def names(who: Headers) -> set[str]:
        items = client.get("/v1/events", headers=who).json()["items"]
        return {e["router_name"] for e in items}

    assert names(blue) == {"GoBGP-1"}
    assert names(red) == set()
    assert names({}) == {"GoBGP-1"}  # admin
    rib = client.get("/v1/routers/GoBGP-1/rib", headers=red)
    assert rib.status_code == 404
    adj = client.get(f"/v1/neighbors/{made.json()['id']}/rib-in", headers=red)
    assert adj.status_code == 404
    wait_for(lambda: "GoBGP-1" in client.get("/metrics").text, what="router in metrics")
    assert 'router="GoBGP-1"' in client.get("/metrics", headers=blue).text
    assert "GoBGP-1" not in client.get("/metrics", headers=red).text


def test_policyinfo_is_project_scoped(client: TestClient, callers: dict[str, Headers]) -> None:
    blue, red = callers["blue-member"], callers["red-member"]
    assert client.post("/v1/routers", json=ROUTER, headers=blue).status_code == 201
    assert client.get("/v1/policyinfo", headers=blue).status_code == 200
    assert (
        client.get("/v1/policyinfo", params={"host_name": "GoBGP-1"}, headers=red).status_code
        == 404
    )


@pytest.mark.parametrize(
    "res",
    [NEIGHBORS, DEFINED_SETS, POLICIES, ATTACHMENTS, ANNOUNCEMENTS],
    ids=["neighbors", "defined-sets", "policies", "attachments", "announcements"],
)
def test_lists_without_router_cover_the_callers_project(
    client: TestClient, callers: dict[str, Headers], res: Resource
) -> None:
    """A member asking for neighbors (or any owned list) without ``router=`` gets its
    whole project's, never another project's (issue 10, item 4)."""
    blue, reader, red = callers["blue-member"], callers["blue-reader"], callers["red-member"]
    for path, body in res.setup:
        assert client.post(path, json=_in_blue(path, body)).status_code == 201
    assert client.post(res.path, json=res.valid[0], headers=blue).status_code == 201
    # the same objects on a router of project red
    red_router = {**ROUTER, "name": "GoBGP-R", "api_address": "unix:///run/sdwan/red.sock"}
    assert client.post("/v1/routers", json=red_router, headers=red).status_code == 201
    for path, body in res.setup[1:]:
        assert client.post(path, json={**body, "router": "GoBGP-R"}, headers=red).status_code == 201
    made = client.post(res.path, json={**res.valid[0], "router": "GoBGP-R"}, headers=red)
    assert made.status_code == 201, made.text

    for who, router in ((blue, "GoBGP-1"), (reader, "GoBGP-1"), (red, "GoBGP-R")):
        listed = client.get(res.path, headers=who)
        assert listed.status_code == 200, listed.text
        assert listed.json()["total"] == 1
        assert {item["router_name"] for item in listed.json()["items"]} == {router}
    assert client.get(res.path).json()["total"] == 2  # admin: every project
