"""What a site may hold (issue 21, item 6): at most MAX_UPLINKS_PER_SITE uplinks and
MAX_INTENTS_PER_SITE intents (lowered here, the mechanism is the same), and an
intent's destination site is a site of its own project, admins included."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sdwan.domain.intent import MAX_INTENTS_PER_SITE, MAX_UPLINKS_PER_SITE
from sdwan.service.intents import IntentService
from sdwan.service.uplinks import UplinkService
from tests.support.demo_site import INTENT, UPLINKS, site_with_uplinks


def test_a_site_holds_a_bounded_number_of_uplinks_and_intents(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (UplinkService.most, IntentService.most) == (
        MAX_UPLINKS_PER_SITE,
        MAX_INTENTS_PER_SITE,
    )
    assert MAX_UPLINKS_PER_SITE == MAX_INTENTS_PER_SITE == 256
    monkeypatch.setattr(UplinkService, "most", 2)
    monkeypatch.setattr(IntentService, "most", 2)
    site_with_uplinks(client)  # two uplinks: the most
    third = {**UPLINKS[0], "name": "lte", "router": "GoBGP-3", "neighbor": "198.18.34.4"}
    full = client.post("/v1/uplinks", json=third)
    assert full.status_code == 409 and full.json()["error"]["field"] == "site", full.text
    assert "has 2 uplinks, the most a site may have" in full.json()["error"]["message"]
    for name in ("a", "b"):
        assert client.post("/v1/intents", json={**INTENT, "name": name}).status_code == 201
    full = client.post("/v1/intents", json={**INTENT, "name": "c"})
    assert full.status_code == 409 and "has 2 intents" in full.json()["error"]["message"]
    # one less: room again
    first = client.get("/v1/intents", params={"name": "a"}).json()["items"][0]
    assert client.delete(f"/v1/intents/{first['id']}").status_code == 200
    assert client.post("/v1/intents", json={**INTENT, "name": "c"}).status_code == 201


def test_an_intents_destination_site_is_in_its_own_project(client: TestClient) -> None:
    """An admin sees every project's sites; a destination in another project would
    make one project's routers steer by another's prefixes: refused."""
    site_with_uplinks(client)  # hq, in the default project
    assert client.post("/v1/projects", json={"name": "red"}).status_code == 201
    body = {
        "name": "Red-1",
        "router_id": "198.18.0.9",
        "asn": 65009,
        "api_address": "unix:///run/sdwan/red-1.sock",
        "project": "red",
    }
    assert client.post("/v1/routers", json=body).status_code == 201
    made = client.post(
        "/v1/sites",
        json={
            "name": "away",
            "routers": [{"router": "Red-1"}],
            "prefixes": [{"prefix": "192.0.2.0/24"}],
        },
    )
    assert made.status_code == 201, made.text
    answer = client.post(
        "/v1/intents", json={**INTENT, "destination": {"type": "site", "site": "away"}}
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "destination.site" and "another project" in error["message"]
    # a site of its own project is fine
    branch = {"name": "branch", "prefixes": [{"prefix": "192.0.2.128/25"}]}
    assert client.post("/v1/sites", json=branch).status_code == 201
    answer = client.post(
        "/v1/intents", json={**INTENT, "destination": {"type": "site", "site": "branch"}}
    )
    assert answer.status_code == 201, answer.text
