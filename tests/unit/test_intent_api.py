"""Sites, uplinks and intents through the API (FakeSpeakers behind the routers): the
generated policy objects, read-only through the normal resources and replaced on a
change; the rules that protect references; projects."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.demo_site import INTENT, SITE, generated, routers, site_with_uplinks
from tests.support.identity import add_user, bearer, login
from tests.support.waits import wait_for


def test_an_intent_generates_policy_on_the_site_routers(client: TestClient) -> None:
    site_with_uplinks(client)
    made = client.post("/v1/intents", json=INTENT)
    assert made.status_code == 201, made.text
    intent = made.json()
    assert intent["tiers"] == [["vyos1"], ["vyos2"]] and intent["site_name"] == "hq"
    policies = generated(client, "/v1/policies", "GoBGP-1")
    assert set(policies) == {"i.far.in", "s.nhs"}
    statement = policies["i.far.in"]["statements"][0]
    assert statement["actions"]["local_pref"] == 300
    assert policies["i.far.in"]["generated_by"] == f"/v1/intents/{intent['id']}"
    lp2 = generated(client, "/v1/policies", "GoBGP-2")["i.far.in"]["statements"][0]
    assert lp2["actions"]["local_pref"] == 200
    attachments = generated(client, "/v1/policy-attachments", "GoBGP-3")
    assert attachments["s.nhs"]["neighbors"] == ["198.18.31.1", "198.18.32.2"]
    assert attachments["s.nhs"]["priority"] < 0
    # the reconciler applies them like hand-written ones: the intent turns ACTIVE
    body = wait_for(
        lambda: (r := client.get(f"/v1/intents/{intent['id']}").json())["status"] == "ACTIVE" and r,
        timeout=15,
        what="intent ACTIVE",
    )
    assert {g["status"] for g in body["generated"]} == {"ACTIVE"}
    assert {g["router_name"] for g in body["generated"]} == {"GoBGP-1", "GoBGP-2"}


def test_generated_objects_are_read_only_and_follow_their_intent(client: TestClient) -> None:
    site_with_uplinks(client)
    intent = client.post("/v1/intents", json=INTENT).json()
    policy = generated(client, "/v1/policies", "GoBGP-1")["i.far.in"]
    refused = client.patch(f"/v1/policies/{policy['id']}", json={"description": "mine"})
    assert refused.status_code == 409 and "/v1/intents/" in refused.json()["error"]["message"]
    assert client.delete(f"/v1/policies/{policy['id']}").status_code == 409
    # a hand-written policy may not refer to a generated set either
    sneaky = {
        "router": "GoBGP-1",
        "name": "mine",
        "statements": [{"conditions": {"prefix_set": "i.far.dst"}}],
    }
    answer = client.post("/v1/policies", json=sneaky)
    assert answer.status_code == 422 and "generated" in answer.json()["error"]["message"]
    # one change swaps the preference: the same objects, new local preferences
    flipped = client.patch(f"/v1/intents/{intent['id']}", json={"prefer": [["vyos2"], ["vyos1"]]})
    assert flipped.status_code == 200, flipped.text
    assert any("soft reset" in w for w in flipped.json()["warnings"])
    one = generated(client, "/v1/policies", "GoBGP-1")["i.far.in"]
    assert one["statements"][0]["actions"]["local_pref"] == 200 and one["id"] == policy["id"]
    # deleted with the intent (marked, then gone once the routers no longer have them)
    assert client.delete(f"/v1/intents/{intent['id']}").status_code == 200
    wait_for(
        lambda: "i.far.in" not in generated(client, "/v1/policies", "GoBGP-1"),
        timeout=15,
        what="generated policy removed",
    )
    assert set(generated(client, "/v1/policies", "GoBGP-1")) == {"s.nhs"}


def test_references_are_checked_with_the_field_named(client: TestClient) -> None:
    site_with_uplinks(client)
    bad = client.post("/v1/intents", json={**INTENT, "prefer": [["nope"]]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "prefer[0][0]"
    self_site = {**INTENT, "destination": {"type": "site", "site": "hq"}}
    assert client.post("/v1/intents", json=self_site).json()["error"]["field"] == "destination.site"
    twice = client.post("/v1/sites", json={**SITE, "name": "other"})
    assert twice.status_code == 409 and "already in site hq" in twice.json()["error"]["message"]
    no_neighbor = {"site": "hq", "name": "x", "router": "GoBGP-1", "neighbor": "192.0.2.99"}
    assert client.post("/v1/uplinks", json=no_neighbor).json()["error"]["field"] == "neighbor"
    # an uplink's neighbor, a site's router, an intent's uplink: 409 until released
    neighbors = client.get("/v1/neighbors", params={"router": "GoBGP-1"}).json()["items"]
    uplink_neighbor = next(n for n in neighbors if n["address"] == "198.18.11.11")
    gone = client.delete(f"/v1/neighbors/{uplink_neighbor['id']}")
    assert gone.status_code == 409 and "uplink vyos1" in gone.json()["error"]["message"]
    assert client.delete("/v1/routers/GoBGP-1", params={"cascade": True}).status_code == 409
    client.post("/v1/intents", json=INTENT)
    uplinks = client.get("/v1/uplinks", params={"site": "hq", "name": "vyos1"}).json()["items"]
    assert uplinks[0]["used_by"] == ["far"]
    assert client.delete(f"/v1/uplinks/{uplinks[0]['id']}").status_code == 409
    shaping = {**INTENT, "name": "b", "return_path": {"method": "prepend"}}
    assert client.post("/v1/intents", json=shaping).status_code == 201
    second = {**INTENT, "name": "c", "return_path": {"method": "med"}}
    assert client.post("/v1/intents", json=second).json()["error"]["field"] == "return_path"


def test_internal_neighbors_follow_the_neighbors_of_a_site_router(
    client: TestClient, runtime: object
) -> None:
    """A neighbor added to a site router outside the intent API is caught up by the
    intent controller; deleting an internal one is not blocked by s.nhs."""
    site_with_uplinks(client)
    neighbors = client.get("/v1/neighbors", params={"router": "GoBGP-3"}).json()["items"]
    internal = next(n for n in neighbors if n["address"] == "198.18.31.1")
    assert client.delete(f"/v1/neighbors/{internal['id']}").status_code == 202
    wait_for(
        lambda: (
            generated(client, "/v1/policy-attachments", "GoBGP-3")["s.nhs"]["neighbors"]
            == ["198.18.32.2"]
        ),
        timeout=15,
        what="s.nhs without the deleted neighbor",
    )


def test_sites_are_project_scoped(client: TestClient) -> None:
    add_user(client, "red-member", "red", "member")
    red = bearer(login(client, "red-member"))
    site_with_uplinks(client)  # in project default
    assert client.get("/v1/sites/hq", headers=red).status_code == 404
    assert client.get("/v1/intents", headers=red).json()["total"] == 0
    foreign = {**INTENT, "site": "hq"}
    assert client.post("/v1/intents", json=foreign, headers=red).status_code == 422
    stolen = {"name": "mine", "routers": [{"router": "GoBGP-1"}]}
    answer = client.post("/v1/sites", json=stolen, headers=red)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "routers[0].router"


def test_site_router_changes_regenerate_and_clean_up(client: TestClient) -> None:
    routers(client)
    made = client.post("/v1/sites", json={**SITE, "routers": [{"router": "GoBGP-3"}]})
    assert made.status_code == 201
    # alone in the site: no other site router, but its iBGP neighbors get next hop self
    assert "s.nhs" in generated(client, "/v1/policies", "GoBGP-3")
    off = client.patch("/v1/sites/hq", json={"next_hop_self": False})
    assert off.status_code == 200 and off.json()["version"] == 2
    wait_for(
        lambda: not generated(client, "/v1/policies", "GoBGP-3"), timeout=15, what="s.nhs removed"
    )
    fib = {"routers": [{"router": "GoBGP-3", "fib_agent": "192.0.2.1:80"}]}
    refused = client.patch("/v1/sites/hq", json=fib)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "routers[0].fib_agent"
